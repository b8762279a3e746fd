package dev.izin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;

class VersionTest {
  @Test
  void versionComesFromSdkVersionFile() throws Exception {
    Path file = Paths.get("..", "VERSION");
    String want = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).trim();
    assertEquals(
        want,
        Version.VERSION,
        "the jar's version differs from sdk/VERSION: build with -Drevision=$(cat ../VERSION)"
            + " (test.sh does)");
  }
}
