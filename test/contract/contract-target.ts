/**
 * What the Nova contract suite needs from a cloud: credentials, three compute hosts it may
 * break, and the ways to break and mend them. One implementation drives the real Nova lab
 * (hack/nova-lab.sh), the other the simulator; the suite itself sees only this interface.
 */
export interface ContractTarget {
  /** clouds.yaml text with an admin (password) cloud. */
  cloudsYaml: string;
  cloudName: string;
  /** Three nova-compute hosts, all up and enabled when the suite starts. */
  hosts: readonly [string, string, string];
  /** Flavor and image for test servers (the lab's `m1.tiny` and `cirros-fake`). */
  flavorName: string;
  imageName: string;
  /** Nova's `service_down_time` in seconds (20 on the lab): how long a dead host still looks up. */
  serviceDownTimeSeconds: number;
  /**
   * The host dies: its nova-compute stops heartbeating at once (no graceful shutdown), its
   * servers stay in the database on it. Nova keeps calling it up until `service_down_time`.
   */
  killCompute(host: string): Promise<void>;
  /**
   * The host and its nova-compute come back; resolves once the service has reported again.
   * On start nova-compute destroys its copies of servers evacuated away.
   */
  restoreCompute(host: string): Promise<void>;
  /** Moves a virtual clock forward; absent when the target runs on real time. */
  advance?(ms: number): Promise<void>;
  close(): Promise<void>;
}
