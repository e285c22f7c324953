import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { WatchedFile } from "./watched-file.js";

/** TLS material of the report client: files, read again when they change. */
export interface ReportTlsOptions {
  /** PEM bundle of the CAs that sign the operator's serving certificate (default: the system's). */
  caFile?: string;
  /** Skip verifying the operator's certificate. For labs only; logged loudly by the caller. */
  insecureSkipVerify?: boolean;
  /** Client certificate and key (PEM) for mutual TLS. */
  clientCertFile?: string;
  clientKeyFile?: string;
  /**
   * Name to verify the operator's certificate against (and send as SNI) instead of the URL's
   * host: for endpoints given as the resolved pod IPs of a headless Service, whose
   * certificate names the Service.
   */
  tlsServerName?: string;
}

export interface PostResult {
  status: number;
}

/** One HTTP POST; throws on a network, TLS or timeout failure (not on an HTTP status). */
export interface ReportPoster {
  post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostResult>;
  close(): void;
}

/** A failed POST, classified for the errors metric. */
export class PostError extends Error {
  override readonly name = "PostError";
  constructor(
    readonly kind: "connect" | "timeout" | "tls",
    message: string,
  ) {
    super(message);
  }
}

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_OSSL|HOSTNAME/;

/**
 * POSTs over node:https (or http for `http://` URLs when the caller allows it). The
 * https.Agent keeps connections alive and is rebuilt when the CA, certificate or key file
 * changes.
 */
export class NodeReportPoster implements ReportPoster {
  private readonly files: { ca?: WatchedFile; cert?: WatchedFile; key?: WatchedFile };
  private agent: { stamp: string; agent: https.Agent } | undefined;
  private readonly plainAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly tls: ReportTlsOptions) {
    this.files = {
      ...(tls.caFile ? { ca: new WatchedFile(tls.caFile) } : {}),
      ...(tls.clientCertFile ? { cert: new WatchedFile(tls.clientCertFile) } : {}),
      ...(tls.clientKeyFile ? { key: new WatchedFile(tls.clientKeyFile) } : {}),
    };
  }

  async post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostResult> {
    const target = new URL(url);
    const secure = target.protocol === "https:";
    const agent = secure ? await this.httpsAgent() : this.plainAgent;
    const lib = secure ? https : http;
    return new Promise<PostResult>((resolve, reject) => {
      const req = lib.request(target, { method: "POST", agent, ...(secure && this.tls.tlsServerName ? { servername: this.tls.tlsServerName } : {}), headers: { ...headers, "content-length": String(Buffer.byteLength(body)) }, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
        res.on("error", (err) => reject(new PostError("connect", err.message)));
      });
      req.on("timeout", () => req.destroy(new PostError("timeout", `no answer within ${timeoutMs} ms`)));
      req.on("error", (err: Error & { code?: string }) => {
        if (err instanceof PostError) reject(err);
        else reject(new PostError(TLS_CODES.test(err.code ?? "") ? "tls" : "connect", `${err.code ?? "error"}: ${err.message}`));
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent?.agent.destroy();
    this.plainAgent.destroy();
  }

  private async httpsAgent(): Promise<https.Agent> {
    const [ca, cert, key] = await Promise.all([this.files.ca?.read(), this.files.cert?.read(), this.files.key?.read()]);
    const stamp = [ca, cert, key].map((b) => (b ? createHash("sha256").update(b).digest("hex") : "-")).join("|");
    if (this.agent?.stamp === stamp) return this.agent.agent;
    this.agent?.agent.destroy();
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: 1,
      rejectUnauthorized: !this.tls.insecureSkipVerify,
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
    });
    this.agent = { stamp, agent };
    return agent;
  }
}
