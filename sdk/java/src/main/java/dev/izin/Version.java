package dev.izin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The SDK's version, from {@code sdk/VERSION} (stamped into the jar at build time). */
public final class Version {
  /** The SDK version, e.g. {@code "0.1.0"}; also sent in the user agent. */
  public static final String VERSION = load();

  private Version() {}

  private static String load() {
    Properties p = new Properties();
    try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        throw new IllegalStateException("dev/izin/version.properties is missing from the jar");
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p.getProperty("version");
  }
}
