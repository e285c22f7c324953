import assert from "node:assert/strict";
import { exposedMetrics, promqlMetricNames, seriesNames } from "../../support/promql-metric-names.js";

describe("promqlMetricNames", () => {
  it("keeps metric names and drops functions, keywords, label lists, strings and ranges", () => {
    const expr = 'histogram_quantile(0.9, sum by (le, cloud) (rate(vmkeeper_incident_recovery_duration_seconds_bucket{cloud=~"$cloud", job="x"}[$__rate_interval])))';
    assert.deepEqual(promqlMetricNames(expr), ["vmkeeper_incident_recovery_duration_seconds_bucket"]);
  });

  it("finds every operand of binary operators, with on/ignoring/group_left lists skipped", () => {
    const expr = "max without (instance, pod) (a_total offset 5m) > on (cloud) group_left (policy) b_gauge unless c:recorded or absent(up == 1) and 1e3 < bool vector(0)";
    assert.deepEqual(promqlMetricNames(expr), ["a_total", "b_gauge", "c:recorded", "up"]);
  });

  it("reads the metric of a Grafana label_values() query, not its label", () => {
    assert.deepEqual(promqlMetricNames("label_values(vmkeeper_hosts{job=\"a\"}, cloud)"), ["vmkeeper_hosts"]);
    assert.deepEqual(promqlMetricNames("label_values(cloud)"), []);
  });

  it("does not read a label value that looks like a metric name", () => {
    assert.deepEqual(promqlMetricNames('sum(x_total{result="not_a_metric"}) by (result)'), ["x_total"]);
  });
});

describe("exposedMetrics", () => {
  it("reads families and their series names from the text format, samples or not", () => {
    const text = [
      "# HELP h_seconds Time.",
      "# TYPE h_seconds histogram",
      "# HELP c_total Count.",
      "# TYPE c_total counter",
      'c_total{result="ok"} 1',
      "",
    ].join("\n");
    const families = exposedMetrics(text);
    assert.deepEqual(families, [{ name: "h_seconds", type: "histogram", help: "Time." }, { name: "c_total", type: "counter", help: "Count." }]);
    assert.deepEqual(families.flatMap(seriesNames), ["h_seconds_bucket", "h_seconds_sum", "h_seconds_count", "c_total"]);
  });
});
