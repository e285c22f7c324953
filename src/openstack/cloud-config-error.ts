export type CloudConfigErrorReason =
  | "NoConfigFile"
  | "InvalidYaml"
  | "NoCloudName"
  | "CloudNotFound"
  | "MissingKey"
  | "InvalidValue"
  | "Unsupported";

/**
 * A clouds.yaml problem a person can fix. The message names the file, cloud and key
 * (`key`, e.g. `clouds.prod.auth.password`) — never a value, since values may be secrets.
 */
export class CloudConfigError extends Error {
  override readonly name = "CloudConfigError";

  constructor(
    readonly reason: CloudConfigErrorReason,
    message: string,
    readonly key?: string,
  ) {
    super(message);
  }
}
