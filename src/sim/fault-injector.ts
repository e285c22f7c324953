import { SeededRandom } from "./seeded-random.js";

/**
 * One fault rule. `match` is "METHOD PATH" where either part may use `*` (any characters),
 * e.g. "GET /v2.1/os-hypervisors*", "POST /v2.1/servers/*\/action", "* /v3/auth/tokens".
 */
export interface FaultRule {
  match: string;
  /** Added delay before the answer, on the simulation's clock. */
  latencyMs?: number;
  /** Probability of answering `errorStatus` instead. */
  errorRate?: number;
  errorStatus?: number;
  /** Probability of never answering (the connection stays open until the client gives up). */
  hangRate?: number;
  /** The rule applies to this many matching requests, then is dropped. */
  count?: number;
}

export interface FaultDecision {
  latencyMs: number;
  errorStatus: number | null;
  hang: boolean;
}

interface CompiledRule {
  rule: FaultRule;
  method: RegExp;
  path: RegExp;
  remaining: number;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`, "i");
}

/** Per-endpoint latency, error rates and hangs, with a seeded random source for repeatability. */
export class FaultInjector {
  private compiled: CompiledRule[] = [];
  private readonly rng: SeededRandom;

  constructor(seed: string | number, rules: FaultRule[] = []) {
    this.rng = new SeededRandom(`${String(seed)}/faults`);
    this.setRules(rules);
  }

  setRules(rules: FaultRule[]): void {
    this.compiled = rules.map((rule) => {
      const [method = "*", ...rest] = rule.match.trim().split(/\s+/);
      const path = rest.length > 0 ? rest.join(" ") : "*";
      return { rule: { ...rule }, method: globToRegExp(method), path: globToRegExp(path), remaining: rule.count ?? Number.POSITIVE_INFINITY };
    });
  }

  rules(): FaultRule[] {
    return this.compiled.map((c) => ({ ...c.rule, ...(Number.isFinite(c.remaining) ? { count: c.remaining } : {}) }));
  }

  /** Combines every matching rule: latencies add up, the first error or hang that fires wins. */
  decide(method: string, path: string): FaultDecision {
    const d: FaultDecision = { latencyMs: 0, errorStatus: null, hang: false };
    if (this.compiled.length === 0) return d;
    for (const c of this.compiled) {
      if (c.remaining <= 0 || !c.method.test(method) || !c.path.test(path)) continue;
      c.remaining--;
      d.latencyMs += c.rule.latencyMs ?? 0;
      if (!d.hang && d.errorStatus === null && this.rng.chance(c.rule.hangRate ?? 0)) d.hang = true;
      if (!d.hang && d.errorStatus === null && this.rng.chance(c.rule.errorRate ?? 0)) d.errorStatus = c.rule.errorStatus ?? 500;
    }
    this.compiled = this.compiled.filter((c) => c.remaining > 0);
    return d;
  }
}
