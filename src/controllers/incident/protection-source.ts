import type { Server } from "../../openstack/nova-types.js";
import type { ProtectedInstance, WorkflowSettings } from "../../recovery/workflow/workflow-model.js";

/** Which servers of a failed host are protected, by which policy, and the settings in force. */
export interface ProtectionSource {
  resolve(req: { namespace: string; cloud: string; serviceHost: string; servers: Server[] }): Promise<{ instances: ProtectedInstance[]; settings: WorkflowSettings; policies: { name: string; mode: "KeepRunning" | "NotifyOnly" | "Disabled" }[] }>;
}
