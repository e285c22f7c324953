import assert from "node:assert/strict";
import { HostSession, type HostEvent } from "../../../src/guest-heartbeat/host-session.js";
import { LineFramer } from "../../../src/guest-heartbeat/line-framer.js";
import { expandLine, loadTranscripts, type LineSpec, type Step, type Transcript } from "./transcript.js";

/** Plays the host role of every transcript that has one against the real HostSession. */
class HostRun {
  readonly session: HostSession;
  private readonly framer = new LineFramer();
  private now = 0;
  private sent: string[] = [];
  private events: HostEvent[] = [];

  constructor(t: Transcript) {
    const nonces = [...t.host.nonces];
    this.session = new HostSession({
      intervalMs: t.host.intervalMs,
      threshold: t.host.threshold,
      nonce: () => {
        const n = nonces.shift();
        assert.ok(n, "the transcript ran out of nonces");
        return n;
      },
    });
  }

  private take(out: { send: string[]; events: HostEvent[] }): void {
    this.sent.push(...out.send);
    this.events.push(...out.events);
  }

  step(i: number, step: Step): void {
    for (const [key, value] of Object.entries(step)) this.one(`step ${i} (${key})`, key, value);
  }

  private one(at: string, key: string, value: unknown): void {
    switch (key) {
      case "g2h":
        return this.feed(expandLine(value as LineSpec));
      case "h2g":
        return this.expectSent(at, expandLine(value as LineSpec).toString("utf8"));
      case "advance":
        this.requireQuiet(at);
        return this.advance(value as number);
      case "hostDo":
        return this.do(value as Record<string, unknown>);
      case "hostEvents":
        assert.deepEqual(this.events, value, `${at}: events`);
        this.events = [];
        return;
      case "hostCounters":
        for (const [name, n] of Object.entries(value as Record<string, number>)) assert.equal(this.session.counters()[name as keyof ReturnType<HostSession["counters"]>], n, `${at}: counter ${name}`);
        return;
      case "hostState":
        return assert.equal(this.session.state, value, at);
      case "note":
      case "guestDo":
      case "guestCounters":
      case "guestState":
      case "guestApps":
        return;
      default:
        assert.fail(`${at}: unknown step`);
    }
  }

  private feed(line: Buffer): void {
    for (const frame of this.framer.push(Buffer.concat([line, Buffer.from("\n")]))) {
      if (frame.kind === "oversize") this.session.recordOversize();
      else this.take(this.session.receiveLine(frame.line, this.now));
    }
  }

  private expectSent(at: string, want: string): void {
    const got = this.sent.shift();
    assert.ok(got !== undefined, `${at}: expected the host to send ${want}, it sent nothing`);
    assert.ok(got.endsWith("\n") && !got.slice(0, -1).includes("\n"), `${at}: one line per message`);
    assert.deepEqual(JSON.parse(got) as unknown, JSON.parse(want) as unknown, `${at}: sent line`);
  }

  requireQuiet(at: string): void {
    assert.deepEqual(this.sent, [], `${at}: the host sent lines the transcript does not expect`);
  }

  private advance(ms: number): void {
    const target = this.now + ms;
    for (let next = this.session.nextDeadlineMs(); next !== undefined && next <= target; next = this.session.nextDeadlineMs()) {
      this.now = Math.max(this.now, next);
      this.take(this.session.tick(this.now));
    }
    this.now = target;
  }

  private do(call: Record<string, unknown>): void {
    if ("notifyAction" in call) this.take(this.session.notifyAction(call.notifyAction as Parameters<HostSession["notifyAction"]>[0], this.now));
    else if (typeof call.stop === "string") this.take(this.session.stop(call.stop));
    else assert.fail(`unknown host call ${JSON.stringify(call)}`);
  }
}

describe("guest heartbeat conformance transcripts (host role)", () => {
  const transcripts = loadTranscripts();

  it("has transcripts for both roles", () => {
    assert.ok(transcripts.filter((t) => t.roles.includes("host")).length >= 8);
    assert.ok(transcripts.filter((t) => t.roles.includes("guest")).length >= 8);
  });

  for (const t of transcripts.filter((x) => x.roles.includes("host"))) {
    it(`${t.name}: ${t.description}`, () => {
      const run = new HostRun(t);
      t.steps.forEach((step, i) => run.step(i, step));
      run.requireQuiet("end");
    });
  }
});
