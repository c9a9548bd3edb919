-- wrk script: each request acts as one of many users (a valid token per user, read from a file).
-- Arguments (after `--`): tokens_file method target body_file mode per_thread first_day_epoch [mean_delay_ms]
--   mode "random":  a random token per request (math.random, seeded per thread)
--   mode "rotate":  check-in writers; thread t owns tokens [t*per_thread, (t+1)*per_thread) and request i of
--                   the thread goes to token i % per_thread with date first_day + i // per_thread: every
--                   request is a fresh (user, date), so none is refused as a duplicate.
--   mean_delay_ms > 0: each connection waits a random time (exponential, this mean) before each request, so the
--                   load offered is about connections / mean delay, whatever the answers take (Poisson
--                   arrivals: the latency of a fixed load, not of a saturated server); absent or 0: as fast as
--                   answers come (closed loop)
-- done() prints one line "BENCH-JSON {...}" with the figures (latency in microseconds).

local next_tid = 0

function setup(thread)
    thread:set("tid", next_tid)
    next_tid = next_tid + 1
end

local tokens = {}
local method, target, body, mode
local per_thread, first_day = 1, 0
local counter = 0

function init(args)
    for line in io.lines(args[1]) do
        if #line > 0 then
            tokens[#tokens + 1] = line
        end
    end
    method, target = args[2], args[3]
    local f = io.open(args[4], "r")
    body = f:read("*a")
    f:close()
    mode = args[5]
    per_thread = tonumber(args[6])
    first_day = tonumber(args[7])
    math.randomseed(1000 + (tid or 0))
    local mean_delay = tonumber(args[8] or "0")
    if mean_delay > 0 then  -- wrk looks for delay() after init: only a paced run defines it
        delay = function()
            return -math.log(1 - math.random()) * mean_delay
        end
    end
end

function request()
    local token, payload
    if mode == "rotate" then
        local slot = counter % per_thread
        local day = math.floor(counter / per_thread)
        counter = counter + 1
        token = tokens[(tid or 0) * per_thread + slot + 1]
        payload = body:gsub("@DATE@", os.date("!%Y-%m-%d", first_day + day * 86400))
    else
        token = tokens[math.random(#tokens)]
        payload = body
    end
    local headers = {["Authorization"] = "Bearer " .. token}
    if #payload > 0 then
        headers["Content-Type"] = "application/json"
    else
        payload = nil
    end
    return wrk.format(method, target, headers, payload)
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'BENCH-JSON {"requests":%d,"bytes":%d,"duration_us":%d,'
            .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,'
            .. '"timeout":%d},"latency_us":{"p50":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
        summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
        latency:percentile(50), latency:percentile(99), latency.mean, latency.max
    ))
end
