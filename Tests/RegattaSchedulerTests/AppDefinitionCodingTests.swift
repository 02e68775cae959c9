// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaScheduler
import Testing

@Suite struct AppDefinitionCodingTests {
    private func decode(_ json: String) throws -> AppDefinition {
        try JSONDecoder().decode(AppDefinition.self, from: Data(json.utf8))
    }

    private func roundTrip(_ app: AppDefinition) throws -> AppDefinition {
        try JSONDecoder().decode(AppDefinition.self, from: try JSONEncoder().encode(app))
    }

    private func object(_ app: AppDefinition) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(app)) as? [String: Any])
    }

    @Test func minimalAppGetsMarathonDefaults() throws {
        // When
        let app = try self.decode(#"{"id":"/a","cmd":"x"}"#)
        // Then
        #expect(app.id == "/a")
        #expect(app.cmd == "x")
        #expect(app.args == nil)
        #expect(app.cpus == 1)
        #expect(app.mem == 128)
        #expect(app.disk == 0)
        #expect(app.gpus == 0)
        #expect(app.instances == 1)
        #expect(app.backoffSeconds == 1)
        #expect(app.backoffFactor == 1.15)
        #expect(app.maxLaunchDelaySeconds == 300)
        #expect(app.upgradeStrategy == UpgradeStrategy(minimumHealthCapacity: 1, maximumOverCapacity: 1))
        #expect(app.portDefinitions == [PortDefinition(port: 0, protocol: "tcp")])
        #expect(app.requirePorts == false)
        #expect(app.killSelection == "YOUNGEST_FIRST")
        #expect(app.unreachableStrategy == UnreachableStrategy(inactiveAfterSeconds: 0, expungeAfterSeconds: 0))
        #expect(!app.unreachableStrategy.isDisabled)
        #expect(app.env.isEmpty && app.labels.isEmpty && app.constraints.isEmpty && app.healthChecks.isEmpty)
        #expect(app.fetch.isEmpty)
        #expect(app.container == nil)
        #expect(app.taskKillGracePeriodSeconds == nil)
        #expect(app.version == nil)
        // The Swift initializer gives the same defaults.
        #expect(app == AppDefinition(id: "/a", cmd: "x"))
    }

    @Test func partialNestedObjectsGetDefaults() throws {
        let app = try self.decode(
            #"""
            {"id":"/a","cmd":"x","upgradeStrategy":{"minimumHealthCapacity":0.5},
             "unreachableStrategy":{"expungeAfterSeconds":60},
             "portDefinitions":[{"name":"http"}],
             "healthChecks":[{}, {"protocol":"COMMAND","command":{"value":"true"}}, {"protocol":"TCP","port":9000}]}
            """#
        )
        #expect(app.upgradeStrategy == UpgradeStrategy(minimumHealthCapacity: 0.5, maximumOverCapacity: 1))
        #expect(app.unreachableStrategy == UnreachableStrategy(inactiveAfterSeconds: 0, expungeAfterSeconds: 60))
        #expect(app.portDefinitions == [PortDefinition(port: 0, protocol: "tcp", name: "http")])
        let http = app.healthChecks[0]
        #expect(http.protocol == "HTTP")
        #expect(http.path == "/")
        #expect(http.portIndex == 0)
        #expect(http.port == nil)
        #expect(http.gracePeriodSeconds == 300)
        #expect(http.intervalSeconds == 60)
        #expect(http.timeoutSeconds == 20)
        #expect(http.maxConsecutiveFailures == 3)
        #expect(http.delaySeconds == 15)
        #expect(http.ignoreHttp1xx == false)
        #expect(app.healthChecks[1].portIndex == nil)
        #expect(app.healthChecks[1].command?.value == "true")
        #expect(app.healthChecks[2].portIndex == nil)
        #expect(app.healthChecks[2].port == 9000)
        #expect(app.healthChecks[2].path == nil)
    }

    @Test func bridgeAppsGetNoDefaultPort() throws {
        let app = try self.decode(#"{"id":"/a","container":{"docker":{"image":"nginx","network":"BRIDGE"}}}"#)
        #expect(app.portDefinitions.isEmpty)
        #expect(app.container?.type == nil)
        #expect(app.container?.docker?.image == "nginx")
    }

    @Test func disabledUnreachableStrategyRoundTrips() throws {
        // Given
        let app = try self.decode(#"{"id":"/a","cmd":"x","unreachableStrategy":"disabled"}"#)
        #expect(app.unreachableStrategy.isDisabled)
        #expect(app.unreachableStrategy.expungeAfterSeconds == nil)
        // When
        let object = try self.object(app)
        // Then
        #expect(object["unreachableStrategy"] as? String == "disabled")
        #expect(try self.roundTrip(app) == app)
    }

    @Test func otherUnreachableStrategyStringsAreRefused() {
        #expect(throws: DecodingError.self) {
            try self.decode(#"{"id":"/a","cmd":"x","unreachableStrategy":"enabled"}"#)
        }
    }

    @Test func legacyPortsBecomePortDefinitions() throws {
        let app = try self.decode(#"{"id":"/a","cmd":"x","ports":[8080,0]}"#)
        #expect(app.portDefinitions == [PortDefinition(port: 8080), PortDefinition(port: 0)])
        // portDefinitions wins over ports when both are given.
        let both = try self.decode(#"{"id":"/a","cmd":"x","ports":[1],"portDefinitions":[{"port":2}]}"#)
        #expect(both.portDefinitions.map(\.port) == [2])
        // Encoding writes both forms, as Marathon does.
        let object = try self.object(app)
        #expect(object["ports"] as? [Int] == [8080, 0])
        #expect((object["portDefinitions"] as? [[String: Any]])?.map { $0["port"] as? Int } == [8080, 0])
    }

    @Test func legacyUrisBecomeFetch() throws {
        let app = try self.decode(#"{"id":"/a","cmd":"x","uris":["https://example.com/a.tgz","file:///b"]}"#)
        #expect(app.fetch == [FetchURI(uri: "https://example.com/a.tgz"), FetchURI(uri: "file:///b")])
        let both = try self.decode(#"{"id":"/a","cmd":"x","uris":["u1"],"fetch":[{"uri":"f1","extract":false}]}"#)
        #expect(both.fetch.map(\.uri) == ["f1"])
        #expect(both.fetch.first?.extract == false)
        #expect(try self.object(app)["uris"] as? [String] == ["https://example.com/a.tgz", "file:///b"])
    }

    @Test func typeErrorNamesTheField() throws {
        let error = #expect(throws: DecodingError.self) {
            try self.decode(#"{"id":"/a","cmd":"x","cpus":"abc"}"#)
        }
        guard case .typeMismatch(_, let context) = error else {
            Issue.record("expected a type mismatch, got \(String(describing: error))")
            return
        }
        #expect(context.codingPath.map(\.stringValue) == ["cpus"])
    }

    @Test func nestedTypeErrorNamesThePath() throws {
        let error = #expect(throws: DecodingError.self) {
            try self.decode(#"{"id":"/a","cmd":"x","portDefinitions":[{"port":1},{"port":"http"}]}"#)
        }
        guard case .typeMismatch(_, let context) = error else {
            Issue.record("expected a type mismatch, got \(String(describing: error))")
            return
        }
        #expect(
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue } == [
                "portDefinitions", "1", "port",
            ]
        )
    }

    @Test func encodeThenDecodeIsIdentity() throws {
        // Given an app using every field
        let app = try self.decode(
            #"""
            {
              "id": "/prod/web", "args": ["nginx", "-g", "daemon off;"], "user": "nobody",
              "cpus": 0.25, "mem": 256.5, "disk": 64, "gpus": 1, "instances": 3,
              "env": {"A": "1", "B": ""}, "labels": {"team": "web"},
              "constraints": [["hostname", "UNIQUE"], ["rack", "GROUP_BY", "3"]],
              "requirePorts": false,
              "container": {
                "type": "DOCKER",
                "docker": {"image": "nginx:1.25", "network": "BRIDGE", "privileged": false, "forcePullImage": true,
                           "parameters": [{"key": "label", "value": "a=b"}]},
                "portMappings": [{"containerPort": 80, "hostPort": 0, "servicePort": 10001, "protocol": "tcp",
                                  "name": "http", "labels": {"VIP_0": "/web:80"}}],
                "volumes": [{"containerPath": "/data", "mode": "RO"}]
              },
              "healthChecks": [
                {"protocol": "MESOS_HTTP", "path": "/health", "portIndex": 0, "gracePeriodSeconds": 10,
                 "intervalSeconds": 5, "timeoutSeconds": 2, "maxConsecutiveFailures": 0, "delaySeconds": 1,
                 "ignoreHttp1xx": true},
                {"protocol": "COMMAND", "command": {"value": "true"}},
                {"protocol": "TCP", "port": 9000}
              ],
              "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0},
              "backoffSeconds": 2, "backoffFactor": 2, "maxLaunchDelaySeconds": 60,
              "killSelection": "OLDEST_FIRST",
              "unreachableStrategy": {"inactiveAfterSeconds": 30, "expungeAfterSeconds": 60},
              "taskKillGracePeriodSeconds": 15,
              "fetch": [{"uri": "https://example.com/a.tgz", "extract": true, "executable": false, "cache": true,
                         "destPath": "a.tgz"}],
              "acceptedResourceRoles": ["*"], "role": "web",
              "version": "2024-01-01T00:00:00.000Z",
              "versionInfo": {"lastScalingAt": "2024-01-01T00:00:00.000Z",
                              "lastConfigChangeAt": "2023-12-31T00:00:00.000Z"}
            }
            """#
        )
        // When
        let decoded = try self.roundTrip(app)
        // Then
        #expect(decoded == app)
        #expect(decoded.container?.effectivePortMappings.first?.labels == ["VIP_0": "/web:80"])
        #expect(decoded.versionInfo?.lastConfigChangeAt == "2023-12-31T00:00:00.000Z")
        // And the Swift-built default app survives too.
        let built = AppDefinition(id: "/b", cmd: "sleep 1", cpus: 0.1, mem: 32, instances: 0)
        #expect(try self.roundTrip(built) == built)
    }

    @Test func missingIDDecodesAsEmptyForTheValidator() throws {
        let app = try self.decode(#"{"cmd":"x"}"#)
        #expect(app.id.isEmpty)
        #expect(AppValidator.validate(app).map(\.path) == ["/id"])
    }
}
