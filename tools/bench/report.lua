-- wrk's done() hook for tools/bench.sh: the run's figures as one
-- "WRK key=value ..." line, latencies in microseconds, so the script never
-- parses wrk's human-readable units.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%.0f duration_us=%.0f connect=%.0f read=%.0f write=%.0f " ..
    "status=%.0f timeout=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f\n",
    summary.requests, summary.duration, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
