# SPDX-License-Identifier: Apache-2.0
"""The hostile-input corpus: one entry per request, with the status the daemon must answer.

Each case is a dict:
  name      unique, `<daemon>/<what>`
  daemon    "master" (:5050 APIs), "agent" (:5051) or "scheduler" (:8080 Marathon API)
  build     bytes of the raw HTTP request, or a function(ctx) -> bytes (ctx: see hostile_inputs.Context)
  expect    the acceptable outcomes: HTTP status codes, "closed" (the connection closed without an answer)
  contains / excludes   text the response body must / must not contain
  stream    the answer is a stream: read the status line and headers, then close the connection
  watch     seconds to keep checking that every daemon answers after the case (crashes that come later)
  within    seconds the answer must take at most (default 15)
  pending   "<tag>: why" — the correct answer is not in main yet; the case reports but does not fail the run.
            Flip it (delete the key) once the work named by the tag is merged; the run prints FLIP for a pending
            case that passes. Tag in use: app-caps (issue 13 item 5).
  finding   "why" — a known bug this corpus found; reports without failing until fixed, then delete the key.

Limits the cases are built around (change them here when the code changes):
  JSON depth: RegattaCore JSONReader.maximumDepth = 256 (master scheduler and agent APIs), but what it refuses
  goes on to Foundation's decoder, whose limit (512 levels) is the one clients see; the scheduler and the master
  operator API use Foundation (JSONSerialization/JSONDecoder) directly.
  Bodies: master HTTPSupport.maximumBodySize = 16 MiB, scheduler MarathonRoutes.maximumBodySize = 8 MiB,
  agent: no body-reading route, 1 MiB listener limit. Every listener refuses an announced Content-Length over its
  limit with 413 before reading, oversized headers and request lines with 431.
"""
import json

MiB = 1 << 20
MASTER_LIMIT = 16 * MiB
SCHEDULER_LIMIT = 8 * MiB
AGENT_LIMIT = 1 * MiB
JSON_DEPTH = 256
FOUNDATION_DEPTH = 512


def http(method, path, body=None, headers=None, content_type="application/json", chunked=None, trailers=None,
         version="HTTP/1.1", length=None):
    """A raw request. `body`: bytes/str/JSON-able; `chunked`: a list of chunks sent with Transfer-Encoding
    (no Content-Length); `length`: a Content-Length to announce instead of the body's."""
    if isinstance(path, str):
        path = path.encode()
    lines = [method.encode() + b" " + path + b" " + version.encode(), b"Host: 127.0.0.1", b"Connection: close"]
    payload = b""
    if chunked is not None:
        lines.append(b"Transfer-Encoding: chunked")
        if content_type:
            lines.append(b"Content-Type: " + content_type.encode())
        for chunk in chunked:
            chunk = chunk if isinstance(chunk, bytes) else chunk.encode()
            payload += b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        payload += b"0\r\n" + b"".join(t + b"\r\n" for t in (trailers or [])) + b"\r\n"
    elif body is not None:
        if isinstance(body, str):
            payload = body.encode()
        elif isinstance(body, bytes):
            payload = body
        else:
            payload = json.dumps(body).encode()
        if content_type:
            lines.append(b"Content-Type: " + content_type.encode())
        lines.append(b"Content-Length: %d" % (len(payload) if length is None else length))
    elif length is not None:
        lines.append(b"Content-Length: %d" % length)
    for header in headers or []:
        lines.append(header if isinstance(header, bytes) else header.encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + payload


def nested(depth, inner=b"0"):
    """`depth` nested arrays around `inner`."""
    return b"[" * depth + inner + b"]" * depth


def subscribe_body(framework_info_extra=""):
    """A scheduler SUBSCRIBE with extra framework_info fields."""
    info = b'{"user":"hostile","name":"hostile"' + framework_info_extra.encode() + b"}"
    return b'{"type":"SUBSCRIBE","subscribe":{"framework_info":' + info + b"}}"


def incomplete_subscribe(depth=None, filler=None):
    """A SUBSCRIBE without `subscribe` (so refused with 400 once read, registering nothing); `depth` puts arrays
    nested to that total depth in an unknown field, `filler` a string of that many bytes."""
    body = b'{"type":"SUBSCRIBE"'
    if depth is not None:
        body += b',"x":' + nested(depth - 1, b"")
    if filler is not None:
        body += b',"y":"' + b"a" * filler + b'"'
    return body + b"}"


def sized(prefix, size, suffix=b'"}'):
    """`prefix` + padding + `suffix`, exactly `size` bytes (the padding is a JSON string's content)."""
    return prefix + b"a" * (size - len(prefix) - len(suffix)) + suffix


# An app the scheduler refuses with 422 (instances -1) whatever else it carries.
INVALID_APP_PREFIX = b'{"id":"/hostile-big","cmd":"sleep 1","instances":-1,"labels":{"k":"'


def app(**fields):
    body = {"id": "/hostile", "cmd": "sleep 1", "cpus": 0.01, "mem": 16, "instances": 0}
    body.update(fields)
    return body


# A finding of this corpus (report to whoever owns MasterRoutes/MarathonRoutes body reading).
BODY_FINDING = ("the body reader maps every error (a malformed chunk, a Content-Length trailer) to 'too large': "
                "master and scheduler answer 413 'The request body exceeds N bytes' (MasterRoutes.readBody and "
                "MarathonRoutes.body catch every error of collect(upTo:)); expected 400 naming the framing")
# Issue 13 item 5: caps on what an app carries. Today a 1.5 MB app with 100k labels takes ~12 s of a debug
# scheduler's CPU (linear, ~125 µs per entry) before its 422.


def scheduler_cases():
    s = []

    def case(name, build, expect, **extra):
        s.append(dict(name="scheduler/" + name, daemon="scheduler", build=build, expect=expect, **extra))

    # JSON nesting. Foundation's parser (JSONSerialization) allows 512 levels.
    case("depth-255-in-env", http("POST", "/v2/apps", b'{"id":"/hostile","cmd":"x","env":' + nested(254) + b"}"),
         [400], contains="/env")
    case("depth-511-in-env", http("POST", "/v2/apps", b'{"id":"/hostile","cmd":"x","env":' + nested(510) + b"}"),
         [400], contains="/env")
    case("depth-513", http("POST", "/v2/apps", b'{"id":"/hostile","cmd":"x","env":' + nested(512) + b"}"),
         [400], contains="not valid JSON")
    case("depth-100k", http("POST", "/v2/apps", nested(100_000)), [400])
    case("depth-1M-objects", http("POST", "/v2/apps", b'{"a":' * 1_000_000 + b"1" + b"}" * 1_000_000), [400])
    case("depth-3M-unclosed", http("POST", "/v2/apps", b"[" * 3_000_000), [400])
    case("depth-1M-put-list", http("PUT", "/v2/apps", nested(1_000_000)), [400])
    case("depth-1M-put-app", http("PUT", "/v2/apps/hostile", nested(1_000_000)), [400])
    case("depth-1M-tasks-delete", http("POST", "/v2/tasks/delete", nested(1_000_000)), [400])
    # Body size around the 8 MiB limit.
    case("body-under-limit", http("POST", "/v2/apps", sized(INVALID_APP_PREFIX, SCHEDULER_LIMIT - 1, b'"}}')),
         [422], contains="/instances")
    case("body-over-limit", http("POST", "/v2/apps", sized(INVALID_APP_PREFIX, SCHEDULER_LIMIT + 1, b'"}}')),
         [413])
    case("body-over-limit-chunked",
         http("POST", "/v2/apps", chunked=[sized(INVALID_APP_PREFIX, SCHEDULER_LIMIT + 1, b'"}}')]),
         [413])
    case("body-announced-over-limit-not-sent", http("POST", "/v2/apps", length=SCHEDULER_LIMIT + 1),
         [413], within=5)
    case("content-length-huge", http("POST", "/v2/apps", length=10**20), [400, 413, "closed"])
    case("content-length-negative", http("POST", "/v2/apps", headers=["Content-Length: -1"]), [400, "closed"])
    case("content-length-twice",
         http("POST", "/v2/apps", b'{"id":"/hostile"}', headers=["Content-Length: 3"]), [400, "closed"])
    case("chunked-and-content-length",
         http("POST", "/v2/apps", chunked=[b'{"id":"/hostile","instances":-1}'], headers=["Content-Length: 5"]),
         [400, 422, "closed"])
    # Chunked bodies.
    case("chunked-with-trailers",
         http("POST", "/v2/apps", chunked=[b'{"id":"/hostile",', b'"cmd":"x","instances":-1}'],
              trailers=[b"X-Trailer: 1", b"X-Other: 2"]), [422])
    case("chunked-content-length-trailer",
         http("POST", "/v2/apps", chunked=[b'{"id":"/hostile",', b'"cmd":"x","instances":-1}'],
              trailers=[b"Content-Length: 99999999999"]), [400, 422], excludes="exceeds")
    case("chunked-bad-size", b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
         [400, "closed"], excludes="exceeds")
    case("chunked-size-overflow",
         b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
         [400, 413, "closed"])
    case("chunked-10k-tiny-chunks", http("POST", "/v2/apps", chunked=[b" "] * 10_000 + [b'{"id":"/x","instances":-1}']),
         [422])
    # Invalid UTF-8 and odd strings.
    case("utf8-invalid-in-id", http("POST", "/v2/apps", b'{"id":"/\xff\xfe","cmd":"x"}'), [400])
    case("utf8-overlong", http("POST", "/v2/apps", b'{"id":"/\xc0\xaf","cmd":"x"}'), [400])
    case("utf8-lone-surrogate", http("POST", "/v2/apps", b'{"id":"/\\ud800","cmd":"x"}'), [400, 422])
    case("nul-in-id", http("POST", "/v2/apps", b'{"id":"/a\\u0000b","cmd":"x"}'), [422])
    case("utf8-invalid-in-path", b"GET /v2/apps/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
         [400, 404, "closed"])
    case("not-json", http("POST", "/v2/apps", b"not json"), [400])
    case("json-null", http("POST", "/v2/apps", b"null"), [400])
    case("json-array-for-app", http("POST", "/v2/apps", b"[1]"), [400])
    case("empty-body", http("POST", "/v2/apps", b""), [400])
    case("bom-prefixed", http("POST", "/v2/apps", b"\xef\xbb\xbf" + json.dumps(app(instances=-1)).encode()),
         [400, 422])
    # Numbers where times and counts go.
    case("instances-negative", http("POST", "/v2/apps", app(instances=-1)), [422], contains="/instances")
    case("instances-1e300", http("POST", "/v2/apps", b'{"id":"/hostile","cmd":"x","instances":1e300}'), [400])
    case("instances-bignum", http("POST", "/v2/apps", b'{"id":"/hostile","cmd":"x","instances":' + b"9" * 400 + b"}"),
         [400])
    case("instances-int32-overflow", http("POST", "/v2/apps", app(instances=2**31)), [422], contains="/instances")
    case("instances-fraction", http("POST", "/v2/apps", b'{"id":"/hostile","cmd":"x","instances":1.5}'), [400])
    case("cpus-1e308", http("POST", "/v2/apps", app(cpus=1e308)), [422], contains="/cpus")
    case("cpus-overflow-inf", http("POST", "/v2/apps", b'{"id":"/hostile","cmd":"x","cpus":1e999}'), [400, 422])
    case("cpus-negative-zero", http("POST", "/v2/apps", b'{"id":"/hostile","cmd":"x","cpus":-0.0}'), [422])
    case("cpus-nan-literal", http("POST", "/v2/apps", b'{"id":"/hostile","cmd":"x","cpus":NaN}'), [400])
    case("mem-1e300", http("POST", "/v2/apps", app(mem=1e300)), [422], contains="/mem")
    case("disk-subnormal", http("POST", "/v2/apps", app(disk=-5e-324)), [422], contains="/disk")
    case("healthcheck-interval-1e20",
         http("POST", "/v2/apps", app(healthChecks=[{"protocol": "TCP", "intervalSeconds": 1e20}])),
         [422], contains="intervalSeconds")
    case("healthcheck-timeout-negative",
         http("POST", "/v2/apps", app(healthChecks=[{"protocol": "TCP", "timeoutSeconds": -1}])), [422])
    case("healthcheck-failures-huge",
         http("POST", "/v2/apps", b'{"id":"/hostile","cmd":"x","healthChecks":[{"maxConsecutiveFailures":1e30}]}'),
         [400])
    case("backoff-1e300", http("POST", "/v2/apps", app(backoffSeconds=1e300)), [422])
    case("max-launch-delay-1e300", http("POST", "/v2/apps", app(maxLaunchDelaySeconds=1e300)), [422])
    case("kill-grace-1e300", http("POST", "/v2/apps", app(taskKillGracePeriodSeconds=1e300)), [422])
    case("unreachable-1e300",
         http("POST", "/v2/apps", app(unreachableStrategy={"inactiveAfterSeconds": 1e300, "expungeAfterSeconds": 1e300})),
         [422])
    case("port-70000", http("POST", "/v2/apps", app(portDefinitions=[{"port": 70000}])), [422])
    case("port-negative", http("POST", "/v2/apps", app(portDefinitions=[{"port": -1}])), [422])
    # Huge ids and counts (each app is invalid, so nothing is stored). The 100k-entry apps must be refused, and within
    # a minute: a bound generous enough for a loaded CI machine that still catches the superlinear decoding they
    # once took (12-15 s on an idle machine; about 2 s now).
    case("id-1MiB", http("POST", "/v2/apps", app(id="/" + "A" * MiB)), [422], contains="/id")
    case("id-50k-segments", http("POST", "/v2/apps", app(id="/a" * 50_000, instances=-1)), [422])
    case("labels-100k", http("POST", "/v2/apps", app(instances=-1, labels={f"k{i}": "v" for i in range(100_000)})),
         [422], within=60)
    case("constraints-100k", http("POST", "/v2/apps", app(constraints=[["hostname", "LIKE", "("]] * 100_000)), [422],
         within=60)
    case("env-100k", http("POST", "/v2/apps", app(instances=-1, env={f"E{i}": "v" for i in range(100_000)})), [422],
         within=60)
    case("healthchecks-10k",
         http("POST", "/v2/apps", app(instances=-1, healthChecks=[{"protocol": "TCP"}] * 10_000)), [422])
    case("put-list-10k-invalid", http("PUT", "/v2/apps", [app(id=f"/h{i}", instances=-1) for i in range(10_000)]),
         [422])
    case("tasks-delete-100k-ids", http("POST", "/v2/tasks/delete", {"ids": [f"t{i}" for i in range(100_000)]}), [200])
    case("tasks-delete-ids-not-strings", http("POST", "/v2/tasks/delete", {"ids": [1, 2]}), [400])
    case("label-selector-deep-parens", http("GET", "/v2/apps?label=" + "(" * 100_000), [200, 400, 414, 431])
    case("embed-1000", http("GET", "/v2/apps?" + "&".join(["embed=apps.tasks"] * 1_000)), [200])
    # Odd and empty paths.
    case("double-slash-apps", http("GET", "//v2/apps"), [200, 301, 308, 404])
    case("nul-in-path", http("GET", "/v2/apps/%00"), [400, 404])
    case("encoded-traversal", http("GET", "/v2/apps/..%2f..%2fetc%2fpasswd"), [400, 404])
    case("raw-traversal", http("GET", "/v2/apps/../../etc/passwd"), [400, 404])
    case("delete-root-app", http("DELETE", "/v2/apps/"), [404, 422])
    case("put-app-empty-id", http("PUT", "/v2/apps//", app(id=None, instances=-1)), [400, 404, 422])
    case("restart-nul", http("POST", "/v2/apps/%00/restart"), [404])
    case("queue-delay-empty", http("DELETE", "/v2/queue//delay"), [404])
    case("versions-traversal", http("GET", "/v2/apps/x/versions/..%2f..%2f"), [404])
    case("deployment-huge-id", http("DELETE", "/v2/deployments/" + "d" * 60_000), [404, 414, 431])
    case("empty-request-target", b"GET  HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", [400, 404, "closed"])
    case("asterisk-target", b"GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", [400, 404, "closed"])
    case("absolute-form-target", http("GET", "http://169.254.169.254/v2/apps"), [200, 400, 404])
    case("unknown-method", http("BREW", "/v2/apps"), [400, 404, 405, 501, "closed"])
    case("http-9", http("GET", "/ping", version="HTTP/9.9"), [400, 505, "closed"])
    case("http-0.9", b"GET /ping\r\n\r\n", [400, "closed"])
    case("events-without-accept", http("GET", "/v2/events"), [405])
    case("events-stream", http("GET", "/v2/events", headers=["Accept: text/event-stream"]), [200], stream=True)
    case("events-10k-types",
         http("GET", "/v2/events?event_type=" + ",".join(f"t{i}" for i in range(10_000)),
              headers=["Accept: text/event-stream"]), [200, 414, 431], stream=True)
    # Oversized headers and URIs.
    case("header-100KiB", http("GET", "/ping", headers=["X-Big: " + "a" * 100_000]), [431])
    case("headers-10k", http("GET", "/ping", headers=[f"X-H{i}: v" for i in range(10_000)]), [431])
    case("uri-100KiB", http("GET", "/v2/apps/" + "a" * 100_000), [414, 431])
    return s


def master_cases():
    s = []

    def case(name, build, expect, **extra):
        s.append(dict(name="master/" + name, daemon="master", build=build, expect=expect, **extra))

    sub = "/api/v1/scheduler"
    # The reproducer: must be refused, and the master must still run after the heartbeat that used to trap.
    case("subscribe-failover-1e300", http("POST", sub, subscribe_body(',"failover_timeout":1e300')), [400],
         contains="failover_timeout", watch=20)
    case("subscribe-failover-negative", http("POST", sub, subscribe_body(',"failover_timeout":-1')), [400],
         contains="failover_timeout")
    case("subscribe-failover-1e20", http("POST", sub, subscribe_body(',"failover_timeout":1e20')), [400],
         contains="failover_timeout")
    case("subscribe-failover-inf", http("POST", sub, subscribe_body(',"failover_timeout":1e999')), [400])
    case("subscribe-utf8-invalid", http("POST", sub, b'{"type":"SUBSCRIBE","subscribe":{"framework_info":'
                                                 b'{"user":"\xff\xfe","name":"y"}}}'), [400])
    # JSON nesting around the limit and far beyond, on every JSON API of the master. The fast reader (256 levels)
    # hands what it refuses to Foundation's decoder, so the limit the client sees is Foundation's 512.
    case("depth-512", http("POST", sub, incomplete_subscribe(depth=FOUNDATION_DEPTH)), [400], contains="subscribe")
    case("depth-513", http("POST", sub, incomplete_subscribe(depth=FOUNDATION_DEPTH + 1)), [400],
         contains="not valid JSON")
    case("operator-depth-512", http("POST", "/api/v1", b'{"type":"GET_HEALTH","x":' + nested(FOUNDATION_DEPTH - 1, b"")
                                    + b"}"), [200])
    case("operator-depth-513", http("POST", "/api/v1", b'{"type":"GET_HEALTH","x":' + nested(FOUNDATION_DEPTH, b"")
                                    + b"}"), [400])
    case("depth-1M", http("POST", sub, nested(1_000_000)), [400])
    case("depth-5M-unclosed", http("POST", sub, b"[" * 5_000_000), [400])
    case("agent-api-depth-1M", http("POST", "/api/v1/agent", b'{"type":"PONG","x":' + nested(1_000_000) + b"}"), [400])
    case("operator-depth-1M", http("POST", "/api/v1", b'{"type":"GET_HEALTH","x":' + nested(1_000_000) + b"}"), [400])
    case("operator-depth-1M-objects", http("POST", "/api/v1", b'{"a":' * 1_000_000 + b"1" + b"}" * 1_000_000), [400])
    # Bodies around the 16 MiB limit.
    case("body-under-limit", http("POST", sub, incomplete_subscribe(filler=MASTER_LIMIT - 30)), [400],
         contains="subscribe")
    case("body-over-limit", http("POST", sub, sized(b'{"type":"SUBSCRIBE","y":"', MASTER_LIMIT + 1)), [413])
    case("body-over-limit-chunked", http("POST", sub, chunked=[sized(b'{"type":"SUBSCRIBE","y":"', MASTER_LIMIT + 1)]),
         [413])
    case("operator-body-over-limit", http("POST", "/api/v1", sized(b'{"type":"GET_HEALTH","y":"', MASTER_LIMIT + 1)),
         [413])
    case("agent-api-body-over-limit", http("POST", "/api/v1/agent", sized(b'{"type":"PONG","y":"', MASTER_LIMIT + 1)),
         [413])
    case("body-announced-over-limit-not-sent", http("POST", sub, length=MASTER_LIMIT + 1), [413], within=5)
    case("chunked-with-trailers", http("POST", sub, chunked=[b'{"type":"SUBSC', b'RIBE"}'],
                                       trailers=[b"X-Trailer: 1", b"Mesos-Stream-Id: forged"]), [400],
         contains="subscribe")
    case("chunked-bad-size",
         b"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n{}\r\n0\r\n\r\n",
         [400, "closed"])
    case("chunked-content-length-trailer",
         http("POST", sub, chunked=[b'{"type":"SUBSC', b'RIBE"}'], trailers=[b"Content-Length: 5"]), [400],
         excludes="exceeds")
    # Malformed calls.
    case("empty-body", http("POST", sub, b""), [400])
    case("json-null", http("POST", sub, b"null"), [400])
    case("json-string", http("POST", sub, b'"SUBSCRIBE"'), [400])
    case("unknown-type", http("POST", sub, b'{"type":"FLY"}'), [400])
    case("protobuf", http("POST", sub, b"\x08\x01", content_type="application/x-protobuf"), [415])
    case("call-without-stream", http("POST", sub, b'{"type":"TEARDOWN","framework_id":{"value":"nope"}}'),
         [400, 403, 404])
    case("decline-refuse-1e300-unsubscribed",
         http("POST", sub, b'{"type":"DECLINE","framework_id":{"value":"nope"},"decline":{"offer_ids":[],'
                           b'"filters":{"refuse_seconds":1e300}}}'), [400, 403, 404])
    case("operator-unknown", http("POST", "/api/v1", b'{"type":"RM_RF"}'), [400])
    case("operator-mark-gone-unknown",
         http("POST", "/api/v1", b'{"type":"MARK_AGENT_GONE","mark_agent_gone":{"agent_id":{"value":"nope"}}}'),
         [400, 404])
    case("operator-subscribe-stream", http("POST", "/api/v1", b'{"type":"SUBSCRIBE"}'), [200], stream=True)
    case("agent-update-forged",
         http("POST", "/api/v1/agent", b'{"type":"UPDATE","agent_id":{"value":"forged"},"update":{"framework_id":'
                                       b'{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING",'
                                       b'"source":"SOURCE_EXECUTOR","agent_id":{"value":"forged"},"uuid":"AAAA"}}}'),
         [400, 403, 404])
    case("agent-pong-forged", http("POST", "/api/v1/agent", b'{"type":"PONG","agent_id":{"value":"forged"}}'),
         [400, 403, 404])
    # Odd paths.
    case("double-slash", http("POST", "/" + sub, subscribe_body(',"failover_timeout":1e300')), [400, 404])
    case("state-nul", http("GET", "/master/state%00"), [400, 404])
    case("state-traversal", http("GET", "/master/../master/state"), [200, 400, 404])
    case("state-encoded-traversal", http("GET", "/master/..%2f..%2fetc%2fpasswd"), [400, 404])
    case("empty-request-target", b"GET  HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", [400, 404, "closed"])
    case("utf8-invalid-in-path", b"GET /master/\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
         [400, 404, "closed"])
    case("state-jsonp", http("GET", "/master/state?jsonp=alert(1)//"), [200, 400], excludes="alert(1)")
    case("unknown-method", http("BREW", "/master/state"), [400, 404, 405, 501, "closed"])
    case("header-100KiB", http("GET", "/health", headers=["X-Big: " + "a" * 100_000]), [431])
    case("headers-10k", http("GET", "/health", headers=[f"X-H{i}: v" for i in range(10_000)]), [431])
    case("uri-100KiB", http("GET", "/master/" + "a" * 100_000), [414, 431])
    return s


def agent_cases():
    s = []

    def case(name, build, expect, **extra):
        s.append(dict(name="agent/" + name, daemon="agent", build=build, expect=expect, **extra))

    def read(path, extra=""):
        return lambda ctx: http("GET", "/files/read?path=" + ctx.quote(path(ctx) if callable(path) else path) + extra)

    def browse(path):
        return lambda ctx: http("GET", "/files/browse?path=" + ctx.quote(path(ctx) if callable(path) else path))

    def sandbox(rest):
        return lambda ctx: ctx.sandbox + rest

    # Outside every sandbox: 404, whether the file exists or not.
    for name, path in [("etc-passwd", "/etc/passwd"), ("dev-zero", "/dev/zero"), ("proc-self-mem", "/proc/self/mem"),
                       ("proc-self-environ", "/proc/self/environ"), ("root", "/"), ("dev-stdin", "/dev/stdin"),
                       ("agent-work-dir", lambda ctx: ctx.work_dir + "/agent")]:
        case("read-" + name, read(path, "&offset=0"), [404])
        case("browse-" + name, browse(path), [404])
    # Through a sandbox: 403.
    case("read-sandbox-dotdot-passwd", read(sandbox("/../../../../../../etc/passwd"), "&offset=0"), [403])
    case("browse-sandbox-dotdot", browse(sandbox("/../..")), [403])
    case("read-symlink-to-passwd", read(sandbox("/passwd-link"), "&offset=0"), [403])
    case("read-symlink-to-dev-zero", read(sandbox("/zero"), "&offset=0"), [403])
    case("browse-symlink-to-root", browse(sandbox("/root")), [403])
    case("read-through-symlinked-dir", read(sandbox("/root/etc/passwd"), "&offset=0"), [403])
    # Special files inside a sandbox: refused at once, never blocking.
    case("read-fifo", read(sandbox("/fifo"), "&offset=0"), [400], within=5, contains="not a regular file")
    case("read-fifo-size", read(sandbox("/fifo")), [400], within=5)
    case("browse-fifo", browse(sandbox("/fifo")), [200], within=5)
    case("read-directory", read(sandbox(""), "&offset=0"), [400])
    case("browse-sandbox", browse(sandbox("")), [200], contains="fifo")
    case("read-stdout", read(sandbox("/stdout"), "&offset=0"), [200])
    # Offsets and lengths.
    case("offset-negative", read(sandbox("/stdout"), "&offset=-2"), [400])
    case("offset-huge", read(sandbox("/stdout"), "&offset=99999999999999999999"), [400])
    case("offset-max-int64", read(sandbox("/stdout"), "&offset=9223372036854775807"), [200])
    case("offset-1e300", read(sandbox("/stdout"), "&offset=1e300"), [400])
    case("length-negative", read(sandbox("/stdout"), "&offset=0&length=-1"), [400])
    case("length-huge", read(sandbox("/stdout"), "&offset=0&length=9223372036854775807"), [200])
    case("length-garbage", read(sandbox("/stdout"), "&offset=0&length=%ff"), [400])
    # Malformed paths.
    case("path-missing", http("GET", "/files/read"), [400])
    case("path-empty", http("GET", "/files/read?path="), [400])
    case("path-relative", http("GET", "/files/read?path=etc/passwd"), [400])
    case("path-nul", http("GET", "/files/read?path=%00"), [400, 404])
    case("path-nul-suffix", lambda ctx: http("GET", "/files/read?path=" + ctx.quote(ctx.sandbox) + "/stdout%00/x"),
         [400])
    case("path-invalid-utf8", http("GET", "/files/read?path=/%ff%fe"), [400, 404])
    case("path-100KiB", http("GET", "/files/browse?path=/" + "a/" * 50_000), [400, 404, 414, 431])
    case("path-4097-components", lambda ctx: http("GET", "/files/read?path=" + ctx.quote(ctx.sandbox + "/." * 4097)),
         [400, 403, 404])
    case("path-double-slash", lambda ctx: http("GET", "/files/read?path=/" + ctx.quote(ctx.sandbox) + "//stdout"),
         [200, 404])
    # Bodies: the agent reads none; a huge one must not be buffered.
    case("body-under-limit", http("POST", "/files/read", b"a" * (AGENT_LIMIT - 1)), [404, 405])
    case("body-over-limit", http("POST", "/files/read", b"a" * (MASTER_LIMIT + 1)), [413])
    case("body-announced-over-limit-not-sent", http("POST", "/files/read", length=MASTER_LIMIT + 1), [413], within=5)
    case("chunked-with-trailers", http("GET", "/health", chunked=[b"x"], trailers=[b"X-Trailer: 1"]), [200])
    # Odd paths and headers.
    case("double-slash-health", http("GET", "//health"), [200, 301, 404])
    case("files-traversal-in-route", http("GET", "/files/read/../../etc/passwd"), [400, 404])
    case("empty-request-target", b"GET  HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", [400, 404, "closed"])
    case("unknown-method", http("BREW", "/state"), [400, 404, 405, 501, "closed"])
    case("header-100KiB", http("GET", "/health", headers=["X-Big: " + "a" * 100_000]), [431])
    case("headers-10k", http("GET", "/health", headers=[f"X-H{i}: v" for i in range(10_000)]), [431])
    case("uri-100KiB", http("GET", "/state?" + "a" * 100_000), [414, 431])
    return s


def all_cases():
    cases = scheduler_cases() + master_cases() + agent_cases()
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    return cases
