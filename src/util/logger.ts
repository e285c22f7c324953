import { pino, type Logger as PinoLogger, type LoggerOptions } from "pino";

export type Logger = PinoLogger;

/**
 * Paths whose values never reach a log line. Secrets travel in these fields of config and
 * OpenStack/BMC payloads; pino replaces them before serialisation, so a careless
 * `log.info({ config })` still cannot leak them.
 */
export const REDACTED_PATHS = [
  "password",
  "*.password",
  "*.*.password",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "*.applicationCredentialSecret",
  "*.*.applicationCredentialSecret",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "headers['x-auth-token']",
  "*.headers['x-auth-token']",
  "hmacKey",
  "*.hmacKey",
];

export interface LoggerConfig {
  level: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to capture lines. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: { app: "vmkeeper" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: "[REDACTED]" },
    formatters: { level: (label) => ({ level: label }) },
  };
  return config.destination ? pino(options, config.destination) : pino(options);
}

/** A logger that drops everything, for unit tests that do not inspect logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
