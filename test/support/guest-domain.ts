import type { GuestImage } from "./qemu-guest.js";

export interface GuestDomain {
  name: string;
  uuid: string;
  image: GuestImage;
  /** Host path of the serial console's log file. */
  consoleLog: string;
  /**
   * The heartbeat channel's socket. Without it the domain has, like an image with
   * hw_qemu_guest_agent=yes under an unchanged Nova, only the QEMU guest agent channel (so
   * a virtio-serial controller) and no vmkeeper channel.
   */
  heartbeatSocketPath?: string;
  /** Appended to the kernel command line, e.g. `vmkeeper.test=watchdog` (hack/build-guest-image.sh). */
  extraCmdline?: string;
  /** More device elements (a watchdog, a disk), as XML. */
  extraDevices?: string;
  /**
   * Gives the machine ACPI (`<features><acpi/></features>`, as Nova does), which a guest
   * needs to power itself off and to see the power button of `virsh shutdown`. Without it
   * libvirt starts QEMU with `-no-acpi`.
   */
  acpi?: boolean;
}

/**
 * A libvirt domain like Nova's booting the tiny test guest of hack/build-guest-image.sh
 * (vmkeeper-guest inside): 256 MiB, one vCPU, QEMU software emulation, the console on a file.
 */
export function guestDomainXml(d: GuestDomain): string {
  const channel = d.heartbeatSocketPath
    ? `<channel type='unix'>
      <source mode='bind' path='${d.heartbeatSocketPath}'/>
      <target type='virtio' name='org.vmkeeper.heartbeat.0'/>
    </channel>`
    : `<channel type='unix'>
      <source mode='bind'/>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>`;
  const cmdline = ["console=ttyS0 quiet panic=-1", d.extraCmdline].filter((x) => x !== undefined && x !== "").join(" ");
  const extra = d.extraDevices ? `\n    ${d.extraDevices.trim()}` : "";
  return `<domain type='qemu'>
  <name>${d.name}</name>
  <uuid>${d.uuid}</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:name>app-1</nova:name>
    </nova:instance>
  </metadata>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${d.image.kernel}</kernel>
    <initrd>${d.image.initrd}</initrd>
    <cmdline>${cmdline}</cmdline>
  </os>
${d.acpi ? "  <features><acpi/></features>\n" : ""}  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='${d.consoleLog}'/><target port='0'/></serial>
    ${channel}${extra}
    <memballoon model='none'/>
  </devices>
</domain>
`;
}
