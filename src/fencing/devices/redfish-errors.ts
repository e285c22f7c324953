import type { TransportError } from "../../openstack/http-transport.js";
import { isRecord } from "../../openstack/json-read.js";
import { FenceDeviceError } from "../fence-device.js";

/** Which request failed where, for messages: `127.0.0.1:8000` and `POST /redfish/v1/...`. */
export interface RedfishRequestContext {
  endpoint: string;
  request: string;
}

const CONNECTION_WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connect timed out",
  ECONNABORTED: "connection aborted",
};

/**
 * A request that got no HTTP answer, as a device error. TLS failures (untrusted or mismatched
 * certificate, a plain-HTTP port) are `Protocol`: the BMC answered, but not in a way we may
 * trust, and the message says what to set.
 */
export function transportFailure(e: TransportError, ctx: RedfishRequestContext): FenceDeviceError {
  const at = `Redfish BMC ${ctx.endpoint}`;
  switch (e.kind) {
    case "timeout":
      return new FenceDeviceError("Timeout", `${at}: no answer in time to ${ctx.request}`);
    case "aborted":
      return new FenceDeviceError("Aborted", `${at}: ${ctx.request} aborted`);
    case "tls":
      return new FenceDeviceError("Protocol", `${at}: TLS handshake failed (${e.code ?? "unknown"}) on ${ctx.request}: ${tlsHint(e.code)}`);
    case "too-large":
      return new FenceDeviceError("Protocol", `${at}: answer to ${ctx.request} exceeds the size limit`);
    case "invalid-url":
      return new FenceDeviceError("Config", `${at}: invalid address`);
    case "connection": {
      const code = e.code ?? "";
      // OpenSSL's "wrong version number" (a plain-HTTP port, or TLS older than Node allows) arrives as EPROTO.
      if (code === "EPROTO") return new FenceDeviceError("Protocol", `${at}: TLS handshake failed (EPROTO) on ${ctx.request}: the port does not speak HTTPS (set scheme HTTP?) or only an outdated TLS version`);
      const words = CONNECTION_WORDS[code] ?? "connection failed";
      return new FenceDeviceError("Unreachable", `${at} unreachable: ${words}${code ? ` (${code})` : ""} on ${ctx.request}`);
    }
  }
}

function tlsHint(code: string | undefined): string {
  if (code === undefined) return "check the BMC's TLS settings";
  if (/^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG)/.test(code)) return "the port does not speak HTTPS (set scheme HTTP?)";
  if (code.includes("HOSTNAME") || code === "ERR_TLS_CERT_ALTNAME_INVALID") return "the certificate does not name this address";
  return "the certificate is not trusted; set caBundle to the BMC's CA, or insecureSkipTLSVerify";
}

/** 401 / 403 as `AuthFailed`: names the user, never the password or a token. */
export function authFailure(status: number, username: string, ctx: RedfishRequestContext): FenceDeviceError {
  const user = JSON.stringify(username.length > 64 ? `${username.slice(0, 61)}...` : username);
  if (status === 403) {
    return new FenceDeviceError("AuthFailed", `Redfish BMC ${ctx.endpoint}: user ${user} is not allowed to ${ctx.request} (HTTP 403); it needs a role that may reset systems`);
  }
  return new FenceDeviceError("AuthFailed", `Redfish BMC ${ctx.endpoint} rejected user ${user} (HTTP ${status}) on ${ctx.request}: check the username and password`);
}

/** Any other unexpected answer as `Protocol`, with the BMC's own message when it sent one. */
export function unexpectedStatus(status: number, body: string, ctx: RedfishRequestContext): FenceDeviceError {
  const said = redfishErrorMessage(body);
  return new FenceDeviceError("Protocol", `Redfish BMC ${ctx.endpoint}: HTTP ${status} on ${ctx.request}${said ? `: ${said}` : ""}`);
}

/**
 * The human part of a Redfish error body (`error.@Message.ExtendedInfo[0].Message`, else
 * `error.message`), one line, at most 200 characters; undefined for anything else.
 */
export function redfishErrorMessage(body: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
  if (!isRecord(doc) || !isRecord(doc.error)) return undefined;
  const info = doc.error["@Message.ExtendedInfo"];
  const first: unknown = Array.isArray(info) ? info[0] : undefined;
  const text = isRecord(first) && typeof first.Message === "string" ? first.Message : doc.error.message;
  if (typeof text !== "string" || text.trim() === "") return undefined;
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/**
 * Replaces every occurrence of a secret (password, session tokens) in `text` with `***`. The
 * device runs all its messages through this as a last guard: a BMC that echoes credentials
 * in an error body must not get them into a status message.
 */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 3) out = out.split(s).join("***");
  }
  return out;
}
