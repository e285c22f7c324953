import assert from "node:assert/strict";
import { DomainXmlError, normaliseUuid, parseDomainXml } from "../../../../src/agent/libvirt/domain-xml.js";
import { XmlError, parseXml } from "../../../../src/agent/libvirt/xml-tree.js";

// The shape of `virsh dumpxml` of a running Nova-defined domain on libvirt 9.0 (trimmed).
const NOVA_DOMAIN = `<domain type='qemu' id='7'>
  <name>instance-0000002a</name>
  <uuid>3F2A1C8E-5B7D-4E9F-A1B2-C3D4E5F60718</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="26.2.2"/>
      <nova:name>web &amp; api-1</nova:name>
      <nova:creationTime>2026-12-01 22:29:57</nova:creationTime>
      <nova:flavor name="m1.tiny">
        <nova:memory>64</nova:memory>
      </nova:flavor>
      <nova:owner>
        <nova:user uuid="5e3ad2f1a7c84a7e9b0c6d1f2e3a4b5c">alice</nova:user>
        <nova:project uuid="0f1e2d3c4b5a69788796a5b4c3d2e1f0">demo</nova:project>
      </nova:owner>
    </nova:instance>
  </metadata>
  <memory unit='KiB'>65536</memory>
  <!-- a comment -->
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='virtio-serial' index='0'>
      <alias name='virtio-serial0'/>
    </controller>
    <channel type='pty'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <channel type='unix'>
      <source mode='bind' path='/var/lib/libvirt/qemu/channel/target/domain-7-instance-0000002a/org.qemu.guest_agent.0'/>
      <target type='virtio' name='org.qemu.guest_agent.0' state='disconnected'/>
    </channel>
    <channel type='unix'>
      <source mode='bind' path='/var/lib/vmkeeper/3f2a1c8e.sock'/>
      <target type='virtio' name='org.vmkeeper.heartbeat.0' state='disconnected'/>
      <alias name='channel1'/>
      <address type='virtio-serial' controller='0' bus='0' port='2'/>
    </channel>
    <watchdog model='i6300esb' action='none'>
      <alias name='watchdog0'/>
    </watchdog>
  </devices>
  <seclabel type='none' model='none'/>
</domain>
`;

describe("parseDomainXml", () => {
  it("extracts name, normalised UUID, Nova metadata and the heartbeat socket", () => {
    assert.deepEqual(parseDomainXml(`<?xml version="1.0"?>\n${NOVA_DOMAIN}`), {
      name: "instance-0000002a",
      uuid: "3f2a1c8e-5b7d-4e9f-a1b2-c3d4e5f60718",
      nova: { name: "web & api-1", projectId: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", projectName: "demo", userId: "5e3ad2f1a7c84a7e9b0c6d1f2e3a4b5c", userName: "alice", flavorName: "m1.tiny" },
      heartbeatSocketPath: "/var/lib/vmkeeper/3f2a1c8e.sock",
      virtioSerial: true,
      runId: "7",
    });
  });

  it("accepts any prefix for Nova's namespace and ignores other metadata", () => {
    const xml = `<domain><name>d</name><uuid>3f2a1c8e5b7d4e9fa1b2c3d4e5f60718</uuid><metadata><x:instance xmlns:x="http://example.com/other"><x:name>no</x:name></x:instance><n:instance xmlns:n="http://openstack.org/xmlns/libvirt/nova/1.0"><n:name>yes</n:name></n:instance></metadata></domain>`;
    assert.deepEqual(parseDomainXml(xml), { name: "d", uuid: "3f2a1c8e-5b7d-4e9f-a1b2-c3d4e5f60718", nova: { name: "yes" } });
  });

  it("has no Nova metadata or socket for a plain domain, and ignores a heartbeat channel that is not a unix socket", () => {
    const xml = `<domain type="qemu"><name>plain</name><uuid>3f2a1c8e-5b7d-4e9f-a1b2-c3d4e5f60718</uuid><devices><channel type="pty"><target type="virtio" name="org.vmkeeper.heartbeat.0"/></channel></devices></domain>`;
    assert.deepEqual(parseDomainXml(xml), { name: "plain", uuid: "3f2a1c8e-5b7d-4e9f-a1b2-c3d4e5f60718" });
  });

  it("rejects XML that is not a usable domain", () => {
    assert.throws(() => parseDomainXml("<network><name>n</name></network>"), DomainXmlError);
    assert.throws(() => parseDomainXml("<domain><uuid>3f2a1c8e-5b7d-4e9f-a1b2-c3d4e5f60718</uuid></domain>"), /no <name>/);
    assert.throws(() => parseDomainXml("<domain><name>d</name><uuid>not-a-uuid</uuid></domain>"), /invalid <uuid>/);
  });
});

describe("parseXml", () => {
  it("decodes entities, CDATA and namespaces", () => {
    const root = parseXml(`<a xmlns="urn:d" xmlns:p="urn:p" k='&lt;&#65;&#x42;&quot;'><p:b>x<![CDATA[<raw>]]></p:b><c/></a>`);
    assert.equal(root.namespace, "urn:d");
    assert.equal(root.attributes.get("k"), '<AB"');
    assert.equal(root.children[0]?.namespace, "urn:p");
    assert.equal(root.children[0]?.localName, "b");
    assert.equal(root.children[0]?.text, "x<raw>");
    assert.equal(root.children[1]?.namespace, "urn:d");
  });

  const bad: [string, RegExp][] = [
    ["", /no root element/],
    ["<a>", /unclosed element <a>/],
    ["<a></b>", /does not match/],
    ["<a/><b/>", /more than one root/],
    ["text<a/>", /text outside the root/],
    ["<a k=v/>", /not quoted/],
    ["<a k='1' k='2'/>", /duplicate attribute/],
    ["<a k='1'j='2'/>", /expected whitespace/],
    ["<a>&nbsp;</a>", /unknown entity/],
    ["<a>&amp</a>", /unterminated entity/],
    ["<p:a/>", /undeclared namespace prefix/],
    ["<!DOCTYPE a><a/>", /DTDs/],
    ["<a><!-- open </a>", /unterminated comment/],
    ["<a k='<'/>", /'<' in value/],
    ["<a", /unterminated start tag/],
  ];
  for (const [xml, message] of bad) {
    it(`rejects ${JSON.stringify(xml)}`, () => assert.throws(() => parseXml(xml), (err: unknown) => err instanceof XmlError && message.test(err.message)));
  }
});

describe("normaliseUuid", () => {
  it("gives the dashed lower-case form and rejects anything else", () => {
    assert.equal(normaliseUuid(" 3F2A1C8E5B7D4E9FA1B2C3D4E5F60718\n"), "3f2a1c8e-5b7d-4e9f-a1b2-c3d4e5f60718");
    assert.equal(normaliseUuid("3f2a1c8e-5b7d-4e9f-a1b2-c3d4e5f6071"), undefined);
    assert.equal(normaliseUuid("instance-0000002a"), undefined);
  });
});
