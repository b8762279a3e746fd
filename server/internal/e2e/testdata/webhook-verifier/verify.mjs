// Verifies Standard Webhooks signatures with the standardwebhooks package
// (an implementation independent of izin's), for the end-to-end tests.
// Reads a JSON array of {secret, id, timestamp, signature, body} from
// stdin and writes a JSON array of {ok, error} in the same order.
import { Webhook } from "standardwebhooks";

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const out = JSON.parse(input).map((m) => {
  try {
    new Webhook(m.secret).verify(m.body, {
      "webhook-id": m.id,
      "webhook-timestamp": m.timestamp,
      "webhook-signature": m.signature,
    });
    return { ok: true };
  } catch (e) {
    return { ok: false, error: String(e && e.message ? e.message : e) };
  }
});
process.stdout.write(JSON.stringify(out));
