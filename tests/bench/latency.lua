-- wrk -s tests/bench/latency.lua: at the end of a run, print the latency distribution that
-- tests/bench/bench.py reads (one "latency_us PERCENTILE MICROSECONDS" line per point, then
-- the mean and the count). The script defines no request or response function, so wrk builds
-- its request once and runs no Lua per request: the load is the same as without it.
--
-- wrk's latency is from writing a request to reading the end of its answer, on the wall clock,
-- in microseconds. A new connection's TCP connect and TLS handshake come before the request
-- is written, so they are not in it. wrk 4.1's percentile(100) is 0, so the last point is max.

local points = { 0.1, 0.5 }
for p = 1, 99 do
  points[#points + 1] = p
end
for p = 99.1, 99.95, 0.1 do
  points[#points + 1] = p
end
points[#points + 1] = 99.95
points[#points + 1] = 99.99

done = function(summary, latency, requests)
  local out = {}
  out[#out + 1] = string.format("latency_us 0 %d", latency.min)
  for _, p in ipairs(points) do
    out[#out + 1] = string.format("latency_us %g %d", p, latency:percentile(p))
  end
  out[#out + 1] = string.format("latency_us 100 %d", latency.max)
  out[#out + 1] = string.format("latency_mean_us %.1f", latency.mean)
  out[#out + 1] = string.format("latency_count %d", summary.requests)
  io.write(table.concat(out, "\n") .. "\n")
end
