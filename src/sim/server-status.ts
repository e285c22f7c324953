import type { TaskState, VmState } from "./nova-types.js";

/** Nova's mapping of vm_state and task_state to the API's `status`. */
export function serverStatus(vm: VmState, task: TaskState): string {
  if (vm === "building") return "BUILD";
  if (vm === "deleted") return "DELETED";
  if (task === "rebuilding") return "REBUILD";
  if (vm === "error") return "ERROR";
  if (task === "rebooting") return "REBOOT";
  if (task === "rebooting_hard") return "HARD_REBOOT";
  if (vm === "stopped") return "SHUTOFF";
  return "ACTIVE";
}

/** vm_state values a status filter stands for (GET /servers?status=...). */
export function matchesStatus(status: string, vm: VmState, task: TaskState): boolean {
  return serverStatus(vm, task) === status.toUpperCase();
}
