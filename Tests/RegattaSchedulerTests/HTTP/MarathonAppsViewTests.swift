// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaScheduler

/// The read endpoints' direct writer against the `[String: Any]` path it replaced (``LegacyMarathonJSON``'s
/// `appInfo`/`task` serialized by `MarathonJSON.data`): the same bytes, for apps that use every field.
@Suite struct MarathonAppsViewTests {
    static let version = "2027-01-15T08:00:00.000Z"
    static let now = MarathonJSON.date("2027-01-15T08:01:10.500Z")!

    /// A command app using every definition field, with awkward keys and strings.
    static func commandApp() -> AppDefinition {
        var app = AppDefinition(id: "/prod/cmd-app", cmd: "echo \"hi\" \\ /tmp\n\tdone \u{1}é", cpus: 0.01, mem: 8)
        app.instances = 6
        app.user = "nobody"
        app.disk = 0.5
        app.gpus = 1
        app.env = ["B": "2", "a_b": "x", "A-b": "y", "a10": "ten", "a9": "nine", "Z": "z", "é": "e-acute", "": "empty"]
        app.labels = ["HAPROXY_GROUP": "external", "owner": "team \"a\"", "tier": "web", "Tier2": "x"]
        app.constraints = [["hostname", "UNIQUE"], ["rack", "GROUP_BY", "3"], ["zone", "LIKE", "us-.*"]]
        var named = PortDefinition(port: 10001, protocol: "udp,tcp", name: "dns")
        named.labels = ["VIP_0": "/dns:53", "a": "b"]
        app.portDefinitions = [PortDefinition(port: 10000), named]
        app.requirePorts = true
        var http = AppHealthCheck(protocol: "HTTP", path: "/health", portIndex: 0)
        http.gracePeriodSeconds = 0.5
        http.ignoreHttp1xx = true
        var command = AppHealthCheck(protocol: "COMMAND", path: nil, portIndex: nil)
        command.command = .init(value: "test -f /tmp/ok")
        var tcp = AppHealthCheck(protocol: "MESOS_TCP", path: nil, portIndex: nil)
        tcp.port = 8080
        tcp.timeoutSeconds = 2.25
        app.healthChecks = [http, command, tcp]
        app.upgradeStrategy = UpgradeStrategy(minimumHealthCapacity: 0.5, maximumOverCapacity: 0.2)
        app.backoffSeconds = 0.1 + 0.2
        app.backoffFactor = 1e-7
        app.maxLaunchDelaySeconds = 1e17
        app.killSelection = "OLDEST_FIRST"
        app.unreachableStrategy = UnreachableStrategy(inactiveAfterSeconds: 5, expungeAfterSeconds: nil)
        app.taskKillGracePeriodSeconds = 3.5
        var fetch = FetchURI(uri: "https://example.com/app.tgz")
        fetch.extract = true
        fetch.executable = false
        fetch.cache = true
        fetch.destPath = "bin/app.tgz"
        app.fetch = [fetch, FetchURI(uri: "file:///etc/hosts")]
        app.acceptedResourceRoles = ["*", "web"]
        app.role = "web"
        app.networks = [AppNetwork(mode: "host", name: nil)]
        app.version = Self.version
        app.versionInfo = VersionInfo(lastScalingAt: "2027-01-15T08:00:06.000Z", lastConfigChangeAt: Self.version)
        return app
    }

    /// A Docker app with port mappings in both places, parameters and volumes.
    static func dockerApp() throws -> AppDefinition {
        let json = """
            {"id": "/docker/web", "args": ["--port", "80"], "cpus": 1.5, "mem": 256, "instances": 2,
             "container": {"type": "DOCKER",
               "docker": {"image": "nginx:1.25", "forcePullImage": true, "privileged": false,
                          "parameters": [{"key": "label", "value": "a=b"}],
                          "portMappings": [{"containerPort": 443, "hostPort": 0, "protocol": "tcp"}]},
               "portMappings": [{"containerPort": 80, "hostPort": 0, "servicePort": 10100, "protocol": "tcp",
                                 "name": "http", "labels": {"VIP_0": "/web:80"}},
                                {"containerPort": 0}],
               "volumes": [{"containerPath": "/data", "hostPath": "/var/data", "mode": "RW"},
                           {"containerPath": "/scratch"}]},
             "networks": [{"mode": "container/bridge"}, {"mode": "container", "name": "dcos"}],
             "unreachableStrategy": "disabled",
             "healthChecks": [{"protocol": "MESOS_HTTP", "path": "/", "portIndex": 0}],
             "upgradeStrategy": {"minimumHealthCapacity": 0, "maximumOverCapacity": 0},
             "version": "2027-01-15T07:00:00.000Z"}
            """
        return try JSONDecoder().decode(AppDefinition.self, from: Data(json.utf8))
    }

    static func instance(
        _ id: String,
        app: String,
        state: TaskState,
        host: String?,
        ports: [Int] = [],
        version: String = version,
        stagedAt: String = "2027-01-15T08:00:05.000Z",
        startedAt: String? = nil,
        healthy: Bool? = nil
    ) -> Instance {
        var instance = Instance(
            id: id,
            appId: app,
            version: version,
            taskId: TaskID("\(id)._app.1"),
            agentId: host.map { AgentID("agent-\($0)") },
            host: host,
            ports: ports,
            state: state,
            stagedAt: stagedAt
        )
        instance.startedAt = startedAt
        instance.healthy = healthy
        return instance
    }

    /// Three apps (command, Docker, an empty default one), tasks in every health, deployments, a task failure and
    /// scheduler-run health check results.
    static func fixture() throws -> (SchedulerState, [String: [HealthCheckResult]]) {
        let command = Self.commandApp()
        let docker = try Self.dockerApp()
        let empty = AppDefinition(id: "/empty")
        let instances = [
            Self.instance(
                "prod_cmd-app.instance-a",
                app: command.id,
                state: .running,
                host: "10.0.0.1",
                ports: [31000, 31001],
                startedAt: "2027-01-15T08:00:10.000Z",
                healthy: true
            ),
            Self.instance(
                "prod_cmd-app.instance-b",
                app: command.id,
                state: .running,
                host: "10.0.0.2",
                ports: [31002, 31003],
                startedAt: "2027-01-15T08:00:20.250Z",
                healthy: false
            ),
            Self.instance("prod_cmd-app.instance-c", app: command.id, state: .staging, host: nil),
            Self.instance(
                "prod_cmd-app.instance-d",
                app: command.id,
                state: .running,
                host: "10.0.0.3",
                ports: [31004, 31005],
                version: "2026-12-01T00:00:00.000Z",
                stagedAt: "2026-12-01T00:00:01.000Z",
                startedAt: "2026-12-01T00:00:02.000Z"
            ),
            Self.instance(
                "prod_cmd-app.instance-e",
                app: command.id,
                state: .running,
                host: "10.0.0.4",
                ports: [31006, 31007],
                startedAt: "2027-01-15T08:00:30.000Z"
            ),
            Self.instance("prod_cmd-app.instance-f", app: command.id, state: .killing, host: "10.0.0.5"),
            Self.instance("prod_cmd-app.instance-g", app: command.id, state: .running, host: "10.0.0.6"),
            Self.instance(
                "docker_web.instance-a",
                app: docker.id,
                state: .starting,
                host: "10.0.0.1",
                ports: [31100, 31101],
                version: "2027-01-15T07:00:00.000Z"
            ),
            Self.instance(
                "docker_web.instance-b",
                app: docker.id,
                state: .running,
                host: "",
                ports: [31102, 31103],
                version: "2027-01-15T07:00:00.000Z",
                startedAt: "2027-01-15T07:00:03.000Z"
            ),
        ]
        var state = SchedulerState()
        state.load(apps: [command, docker, empty], instances: instances)
        state.restoreDeployments([
            Deployment(id: "d-2", appId: command.id, version: Self.version, action: "ScaleApplication"),
            Deployment(id: "d-1", appId: command.id, version: Self.version, action: "RestartApplication"),
            Deployment(id: "d-3", appId: docker.id, version: Self.version, action: "StartApplication"),
        ])
        // A failed task leaves the app's lastTaskFailure.
        _ = state.update(
            TaskStatus(
                taskId: TaskID("prod_cmd-app.instance-g._app.1"),
                state: .failed,
                message: "exit \"1\"",
                agentId: AgentID("agent-10.0.0.6")
            ),
            now: .seconds(100),
            timestamp: "2027-01-15T08:01:00.000Z"
        )
        let health: [String: [HealthCheckResult]] = [
            "prod_cmd-app.instance-e": [
                HealthCheckResult(
                    alive: true,
                    consecutiveFailures: 0,
                    firstSuccess: "2027-01-15T08:00:31.000Z",
                    lastSuccess: "2027-01-15T08:01:01.000Z",
                    instanceId: "prod_cmd-app.instance-e"
                ),
                HealthCheckResult(
                    alive: false,
                    consecutiveFailures: 2,
                    lastFailure: "2027-01-15T08:01:02.000Z",
                    lastFailureCause: "connection refused",
                    instanceId: "prod_cmd-app.instance-e"
                ),
            ],
            "prod_cmd-app.instance-a": [],
        ]
        return (state, health)
    }

    static let embeds: [MarathonJSON.AppEmbed] = [
        [], [.counts], [.deployments], [.readiness], [.lastTaskFailure], [.taskStats], [.tasks, .deployments],
        [.counts, .deployments], [.counts, .deployments, .tasks], [.counts, .tasks, .deployments, .lastTaskFailure],
        [.tasks, .counts, .deployments, .readiness, .lastTaskFailure, .taskStats],
    ]

    /// Both documents as text (for a readable difference) and as parsed JSON objects.
    func expectSame(_ written: [UInt8], _ old: Data, _ comment: Comment) throws {
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: old, as: UTF8.self), comment)
        let lhs = try JSONSerialization.jsonObject(with: Data(written)) as? NSDictionary
        let rhs = try JSONSerialization.jsonObject(with: old) as? NSDictionary
        #expect(lhs != nil && lhs == rhs, comment)
    }

    @Test(arguments: Self.embeds)
    func appListIsTheOldDocument(embed: MarathonJSON.AppEmbed) throws {
        // Given
        let (state, health) = try Self.fixture()
        let apps = state.apps.values.sorted { $0.id < $1.id }
        // When
        let view = MarathonAppsView(state: state, healthResults: health, now: Self.now)
        let written = view.appsDocument(apps, embed: embed)
        // Then
        let old = MarathonJSON.data([
            "apps": apps.map {
                LegacyMarathonJSON.appInfo($0, state: state, embed: embed, healthResults: health, now: Self.now)
            }
        ])
        try self.expectSame(written, old, "embed \(embed.rawValue)")
        if embed.contains([.tasks, .lastTaskFailure, .taskStats]) {
            // The fixture reaches every part of the document.
            let text = String(decoding: written, as: UTF8.self)
            for part in [
                "\"lastTaskFailure\"", "\"lifeTime\"", "\"lastFailureCause\"", "\"alive\":false", "\"portMappings\"",
                "\"volumes\"", "\"disabled\"", "\"deployments\":[{\"id\":\"d-1\"},{\"id\":\"d-2\"}]", "\"command\"",
                "\"startedAt\"", "\"ipAddresses\":[]",
            ] {
                #expect(text.contains(part), "\(part) is written")
            }
        }
    }

    @Test func oneAppIsTheOldDocument() throws {
        // Given
        let (state, health) = try Self.fixture()
        let view = MarathonAppsView(state: state, healthResults: health, now: Self.now)
        for app in state.apps.values {
            let embed: MarathonJSON.AppEmbed = [.counts, .tasks, .deployments, .lastTaskFailure, .taskStats]
            // When
            let written = view.appDocument(app, embed: embed)
            // Then
            let old = MarathonJSON.data([
                "app": LegacyMarathonJSON.appInfo(app, state: state, embed: embed, healthResults: health, now: Self.now)
            ])
            try self.expectSame(written, old, "app \(app.id)")
        }
    }

    @Test func tasksAreTheOldDocument() throws {
        // Given
        let (state, health) = try Self.fixture()
        let view = MarathonAppsView(state: state, healthResults: health, now: Self.now)
        // An instance of an app that is gone has no service ports.
        let orphan = Self.instance("gone.instance-a", app: "/gone", state: .running, host: "10.0.0.9", ports: [1])
        let instances = state.instances.values.sorted { $0.id < $1.id } + [orphan]
        // When
        let written = view.tasksDocument(instances)
        // Then
        let old = MarathonJSON.data([
            "tasks": instances.map {
                LegacyMarathonJSON.task($0, app: state.apps[$0.appId], healthResults: health[$0.id])
            }
        ])
        try self.expectSame(written, old, "all tasks")
        #expect(instances.count == 9)
    }

    @Test func aCreatedAppIsTheOldDocument() throws {
        // Given
        let (state, health) = try Self.fixture()
        let view = MarathonAppsView(state: state, healthResults: health, now: Self.now)
        let app = Self.commandApp()
        let deployment = Deployment(id: "d-new", appId: app.id, version: Self.version, action: "StartApplication")
        // When
        let written = view.createdAppDocument(app, deployment: deployment)
        // Then it is the AppInfo with counts, and only the new deployment
        var old = LegacyMarathonJSON.appInfo(app, state: state, embed: [.counts])
        old["deployments"] = [["id": deployment.id]]
        try self.expectSame(written, MarathonJSON.data(old), "created app")
    }

    @Test func aDefinitionAloneIsItsCodableForm() throws {
        for app in [Self.commandApp(), try Self.dockerApp(), AppDefinition(id: "/empty")] {
            // When
            let written = MarathonAppsView.definitionDocument(app)
            // Then
            try self.expectSame(written, MarathonJSON.data(LegacyMarathonJSON.object(app)), "definition \(app.id)")
            #expect(
                MarathonJSON.data(MarathonJSON.object(app)) == MarathonJSON.data(LegacyMarathonJSON.object(app)),
                "trees that embed the app (queue, events) get the same app"
            )
        }
    }

    @Test func oneTaskIsTheOldDocument() throws {
        // Given
        let (state, health) = try Self.fixture()
        let view = MarathonAppsView(state: state, healthResults: health, now: Self.now)
        for instance in state.instances.values {
            // When
            let written = view.taskDocument(instance)
            // Then
            let old = MarathonJSON.data([
                "task": LegacyMarathonJSON.task(
                    instance,
                    app: state.apps[instance.appId],
                    healthResults: health[instance.id]
                )
            ])
            try self.expectSame(written, old, "task \(instance.id)")
        }
    }

    @Test func numbersAndStringsAreWrittenAsJSONSerializationWritesThem() throws {
        // Given awkward doubles (written directly and after a JSONEncoder round trip) and strings
        let doubles: [Double] = [
            0, -0.0, 1, -1, 0.01, 1.15, 128, 1e-7, 1e15, 1e16, 1e17, 1e21, 0.1 + 0.2, -2.5, 123456789.123,
        ]
        let strings = ["", "plain", "q\"b\\s/", "\u{0}\u{1f}\u{7f}\u{8}\u{c}\n\r\t", "é ü 雪 🙂", "\u{2028}"]
        // When
        var direct = JSONWriter()
        direct.writeArray(doubles) { writer, value in writer.writeNumber(value) }
        var encoded = JSONWriter()
        encoded.writeArray(doubles) { writer, value in writer.writeEncodedNumber(value) }
        var text = JSONWriter()
        text.write(strings: strings)
        var integers = JSONWriter()
        integers.write(integers: [0, 7, -7, 10, Int.max, Int.min])
        // Then
        let roundTripped = try JSONSerialization.jsonObject(with: JSONEncoder().encode(doubles))
        #expect(direct.bytes == Array(MarathonJSON.data(doubles)))
        #expect(encoded.bytes == Array(MarathonJSON.data(roundTripped)))
        #expect(text.bytes == Array(MarathonJSON.data(strings)))
        #expect(integers.bytes == Array(MarathonJSON.data([0, 7, -7, 10, Int.max, Int.min])))
    }

    /// Times `/v2/apps?embed=apps.tasks` at 1,000 apps × 10 instances, old path against the writer. Runs only with
    /// `REGATTA_API_BENCH=1` (it is a measurement, and debug builds make both paths several times slower).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["REGATTA_API_BENCH"] == "1"))
    func appListAtScale() throws {
        // Given
        let appCount = 1_000
        let perApp = 10
        var apps: [AppDefinition] = []
        var instances: [Instance] = []
        for index in 0..<appCount {
            var app = AppDefinition(id: String(format: "/api-%05d", index), cmd: "sleep 1000000", cpus: 0.01, mem: 8)
            app.instances = perApp
            app.portDefinitions = []
            app.version = Self.version
            app.versionInfo = VersionInfo(lastScalingAt: Self.version, lastConfigChangeAt: Self.version)
            apps.append(app)
            let prefix = Instance.idPrefix(forApp: app.id)
            for n in 0..<perApp {
                instances.append(
                    Self.instance(
                        "\(prefix).instance-\(UUID().uuidString.lowercased())",
                        app: app.id,
                        state: .running,
                        host: "agent-\((index * perApp + n) % 2000).example",
                        ports: [],
                        startedAt: "2027-01-15T08:00:10.000Z"
                    )
                )
                _ = n
            }
        }
        var state = SchedulerState()
        state.load(apps: apps, instances: instances)
        let embed = MarathonJSON.AppEmbed.parse(["apps.tasks"]).union([.counts, .deployments])
        let sorted = state.apps.values.sorted { $0.id < $1.id }
        // When
        func time(_ body: () -> Int) -> (ms: Double, bytes: Int) {
            let start = ContinuousClock.now
            let bytes = body()
            let elapsed = ContinuousClock.now - start
            let (seconds, attoseconds) = elapsed.components
            return (Double(seconds) * 1000 + Double(attoseconds) / 1e15, bytes)
        }
        var old: [Double] = []
        var new: [Double] = []
        var sizes: (Int, Int) = (0, 0)
        for _ in 0..<5 {
            let o = time {
                MarathonJSON.data([
                    "apps": sorted.map { LegacyMarathonJSON.appInfo($0, state: state, embed: embed, now: Self.now) }
                ]).count
            }
            let n = time {
                let view = MarathonAppsView(state: state, healthResults: [:], now: Self.now)
                return view.appsDocument(state.apps.values.sorted { $0.id < $1.id }, embed: embed).count
            }
            old.append(o.ms)
            new.append(n.ms)
            sizes = (o.bytes, n.bytes)
        }
        // Then
        print(
            "REGATTA_API_BENCH /v2/apps?embed=apps.tasks \(appCount) apps × \(perApp): old path "
                + "min \(Int(old.min()!)) ms median \(Int(old.sorted()[2])) ms, writer min "
                + String(format: "%.1f", new.min()!) + " ms median " + String(format: "%.1f", new.sorted()[2])
                + " ms, \(sizes.1) bytes"
        )
        #expect(sizes.0 == sizes.1)
    }
}
