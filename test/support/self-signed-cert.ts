import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SelfSignedCert {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: string;
}

/** A fresh self-signed certificate for 127.0.0.1 and localhost (openssl), valid one day. */
export function selfSignedCert(cn = "127.0.0.1"): SelfSignedCert {
  const dir = mkdtempSync(join(tmpdir(), "vmk-cert-"));
  const certFile = join(dir, "tls.crt");
  const keyFile = join(dir, "tls.key");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", `/CN=${cn}`, "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", keyFile, "-out", certFile], { stdio: "pipe" });
  return { dir, certFile, keyFile, cert: readFileSync(certFile, "utf8") };
}
