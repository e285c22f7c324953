import type { Clock } from "../util/clock.js";
import { FaultInjector, type FaultRule } from "./fault-injector.js";
import { KeystoneModel } from "./keystone-model.js";
import { NovaModel } from "./nova-model.js";
import { defaultSimConfig, type SimConfig, type SimConfigOverrides } from "./sim-config.js";
import { SeededRandom } from "./seeded-random.js";

/** The whole simulated cloud without HTTP: identity, compute and the fault knobs. */
export interface SimCloud {
  config: SimConfig;
  clock: Clock;
  keystone: KeystoneModel;
  nova: NovaModel;
  faults: FaultInjector;
}

export function createSimCloud(clock: Clock, config: SimConfigOverrides = {}, faults: FaultRule[] = []): SimCloud {
  const cfg = defaultSimConfig(config);
  const keystone = new KeystoneModel(clock, new SeededRandom(`${String(cfg.seed)}/identity`), cfg);
  const admin = keystone.userByName("admin") ?? [...keystone.users.values()][0];
  const project = keystone.projectByName("admin") ?? [...keystone.projects.values()][0];
  const nova = new NovaModel({
    clock,
    seed: cfg.seed,
    knobs: cfg.nova,
    flavors: cfg.flavors,
    defaultProjectId: project?.id,
    defaultUserId: admin?.id,
  });
  return { config: cfg, clock, keystone, nova, faults: new FaultInjector(cfg.seed, faults) };
}
