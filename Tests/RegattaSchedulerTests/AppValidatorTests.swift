// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import Testing

/// Builds apps from Marathon JSON, as the API receives them, and validates them.
private enum Check {
    static func app(_ json: String) throws -> AppDefinition {
        try JSONDecoder().decode(AppDefinition.self, from: Data(json.utf8))
    }

    /// Violations of a full app document, as `path → errors`.
    static func document(_ json: String, policy: ContainerPolicy = ContainerPolicy()) throws -> [String: [String]] {
        self.map(AppValidator.validate(try self.app(json), policy: policy))
    }

    /// Violations of `{"id":"/web","cmd":"run", <fields>}`.
    static func fields(_ fields: String, policy: ContainerPolicy = ContainerPolicy()) throws -> [String: [String]] {
        try self.document(#"{"id":"/web","cmd":"run""# + (fields.isEmpty ? "" : ", " + fields) + "}", policy: policy)
    }

    static func map(_ violations: [ValidationViolation]) -> [String: [String]] {
        Dictionary(violations.map { ($0.path, $0.errors) }, uniquingKeysWith: +)
    }
}

/// A realistic app using most features, valid under every rule.
private let complexApp = #"""
    {
      "id": "/prod/web.frontend",
      "args": ["nginx", "-g", "daemon off;"],
      "user": "nobody",
      "cpus": 0.25,
      "mem": 256,
      "disk": 64,
      "instances": 3,
      "env": {"MODE": "production", "LOG_LEVEL": "info"},
      "labels": {"team": "web"},
      "constraints": [
        ["hostname", "UNIQUE"],
        ["rack", "GROUP_BY", "3"],
        ["rack", "GROUP_BY"],
        ["zone", "LIKE", "us-(east|west)-[0-9]+"],
        ["zone", "UNLIKE", "eu-.*"],
        ["hostname", "MAX_PER", "2"],
        ["disk", "IS", "ssd"],
        ["rack", "CLUSTER", "a"],
        ["rack", "CLUSTER"]
      ],
      "container": {
        "type": "DOCKER",
        "docker": {
          "image": "registry.example.com/web/nginx:1.25",
          "network": "BRIDGE",
          "privileged": false,
          "forcePullImage": true,
          "parameters": [{"key": "label", "value": "team=web"}, {"key": "log-driver", "value": "json-file"}]
        },
        "portMappings": [
          {"containerPort": 80, "hostPort": 0, "servicePort": 10000, "protocol": "tcp", "name": "http"},
          {"containerPort": 9090, "hostPort": 31090, "protocol": "udp,tcp", "name": "metrics"},
          {"containerPort": 0, "name": "admin-1"}
        ],
        "volumes": [{"containerPath": "/var/cache/nginx", "mode": "RW"}]
      },
      "healthChecks": [
        {"protocol": "HTTP", "path": "/health", "portIndex": 0, "gracePeriodSeconds": 30,
         "intervalSeconds": 10, "timeoutSeconds": 5, "maxConsecutiveFailures": 3},
        {"protocol": "TCP", "portIndex": 1},
        {"protocol": "HTTPS", "port": 8443, "ignoreHttp1xx": true},
        {"protocol": "MESOS_HTTP", "path": "/ready", "portIndex": 2, "delaySeconds": 5}
      ],
      "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.2},
      "backoffSeconds": 2,
      "backoffFactor": 1.5,
      "maxLaunchDelaySeconds": 600,
      "killSelection": "OLDEST_FIRST",
      "unreachableStrategy": {"inactiveAfterSeconds": 300, "expungeAfterSeconds": 600},
      "taskKillGracePeriodSeconds": 30,
      "fetch": [{"uri": "https://example.com/config.tgz", "extract": true}],
      "acceptedResourceRoles": ["*", "web"]
    }
    """#

@Suite struct AppValidatorTests {
    // MARK: valid apps

    @Test func minimalAppIsValid() throws {
        #expect(try Check.document(#"{"id":"/a","cmd":"x"}"#).isEmpty)
        #expect(AppValidator.validate(AppDefinition(id: "/a", cmd: "sleep 1")).isEmpty)
    }

    @Test func complexDockerBridgeAppIsValid() throws {
        // Given
        let app = try Check.app(complexApp)
        // When
        let violations = AppValidator.validate(app)
        // Then
        #expect(violations == [])
    }

    // MARK: id

    @Test(arguments: [
        "/a", "a", "/prod/web", "prod/web", "/prod/web.v2", "/a-b/c9", "/x.y-z.w", "/0", "/restart/web",
        "/tasks-app", "/a1-2-3",
    ])
    func acceptsValidIDs(id: String) throws {
        #expect(try Check.document(#"{"id":"\#(id)","cmd":"x"}"#).isEmpty)
    }

    @Test(arguments: [
        ("", "is required"),
        ("/", "not the root group"),
        ("/Web", "segment 'Web' must match ^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*"),
        ("/-a", "segment '-a' must match"),
        ("/a-", "segment 'a-' must match"),
        ("/a_b", "segment 'a_b' must match"),
        ("/a..b", "segment 'a..b' must match"),
        ("/.a", "segment '.a' must match"),
        ("/a b", "segment 'a b' must match"),
        ("/café", "segment 'café' must match"),
        ("/a//b", "must not contain empty segments"),
        ("/a/", "must not contain empty segments or end with '/'"),
        ("/a/../b", "segment '..' is not allowed"),
        ("/a/./b", "segment '.' is not allowed"),
        ("/prod/restart", "must not end with 'restart'"),
        ("/prod/tasks", "must not end with 'tasks'"),
        ("/versions", "must not end with 'versions'"),
    ])
    func rejectsInvalidIDs(id: String, expected: String) throws {
        let errors = try Check.document(#"{"id":"\#(id)","cmd":"x"}"#)
        #expect(Array(errors.keys) == ["/id"])
        #expect(errors["/id"]?.contains { $0.contains(expected) } == true, "\(errors)")
    }

    @Test func idErrorsExplainTheFix() throws {
        let errors = try Check.document(#"{"id":"/Web","cmd":"x"}"#)
        #expect(
            errors["/id"]?.first?.hasSuffix(
                "use lowercase letters, digits, '-' and '.', "
                    + "starting and ending each part with a letter or digit"
            ) == true
        )
    }

    // MARK: cmd, args

    @Test func cmdOrArgsAloneIsValid() throws {
        #expect(try Check.document(#"{"id":"/a","cmd":"sleep 10"}"#).isEmpty)
        #expect(try Check.document(#"{"id":"/a","args":["sleep","10"]}"#).isEmpty)
    }

    @Test func cmdAndArgsTogetherAreRefused() throws {
        let errors = try Check.document(#"{"id":"/a","cmd":"sleep 10","args":["sleep","10"]}"#)
        #expect(
            errors == [
                "/args": [
                    "cannot be combined with cmd; give either cmd (run by /bin/sh -c) or args (an argument vector)"
                ]
            ]
        )
    }

    @Test func neitherCmdNorArgsNeedsADockerImage() throws {
        #expect(
            try Check.document(#"{"id":"/a"}"#) == [
                "/cmd": ["is required: give cmd or args, or a DOCKER container with an image"]
            ]
        )
        #expect(try Check.document(#"{"id":"/a","args":[]}"#)["/cmd"] != nil)
        let docker = #"{"id":"/a","container":{"type":"DOCKER","docker":{"image":"nginx"}}}"#
        #expect(try Check.document(docker).isEmpty)
        let defaultType = #"{"id":"/a","container":{"docker":{"image":"nginx"}}}"#
        #expect(try Check.document(defaultType).isEmpty)
        let mesos = #"{"id":"/a","container":{"type":"MESOS","docker":{"image":"nginx"}}}"#
        #expect(try Check.document(mesos)["/cmd"] != nil)
        let mesosWithoutImage = #"{"id":"/a","cmd":"x","container":{"type":"MESOS","volumes":[]}}"#
        #expect(try Check.document(mesosWithoutImage).isEmpty)
    }

    @Test func emptyCommandsAreRefused() throws {
        #expect(
            try Check.document(#"{"id":"/a","cmd":"  "}"#)["/cmd"] == [
                "must not be empty; give a shell command or leave cmd out"
            ]
        )
        #expect(
            try Check.document(#"{"id":"/a","args":["","x"]}"#) == [
                "/args/0": ["must not be empty; it is the program to run"]
            ]
        )
    }

    // MARK: resources

    @Test func cpusMustBeAtLeastOneThousandth() throws {
        #expect(try Check.fields(#""cpus":0"#) == ["/cpus": ["must be >= 0.001"]])
        #expect(try Check.fields(#""cpus":0.0009"#) == ["/cpus": ["must be >= 0.001"]])
        #expect(try Check.fields(#""cpus":-1"#) == ["/cpus": ["must be >= 0.001"]])
        #expect(try Check.fields(#""cpus":0.001"#).isEmpty)
        #expect(try Check.fields(#""cpus":64"#).isEmpty)
    }

    @Test(arguments: ["mem", "disk", "gpus", "instances"])
    func amountsMustNotBeNegative(field: String) throws {
        #expect(try Check.fields(#""\#(field)":-1"#) == ["/\(field)": ["must be >= 0"]])
        #expect(try Check.fields(#""\#(field)":0"#).isEmpty)
        #expect(try Check.fields(#""\#(field)":2"#).isEmpty)
    }

    @Test func amountsTooLargeToRepresentAreRefused() throws {
        #expect(try Check.fields(#""mem":1e20"#) == ["/mem": ["must be <= 1000000000"]])
        #expect(try Check.fields(#""cpus":1e300"#) == ["/cpus": ["must be <= 1000000000"]])
        #expect(try Check.fields(#""instances":3000000000"#) == ["/instances": ["must be <= 2147483647"]])
    }

    // MARK: backoff

    @Test func backoffRules() throws {
        #expect(try Check.fields(#""backoffSeconds":-1"#) == ["/backoffSeconds": ["must be >= 0"]])
        #expect(try Check.fields(#""backoffSeconds":0"#).isEmpty)
        #expect(try Check.fields(#""backoffFactor":0.99"#) == ["/backoffFactor": ["must be >= 1"]])
        #expect(try Check.fields(#""backoffFactor":1"#).isEmpty)
        #expect(try Check.fields(#""maxLaunchDelaySeconds":-5"#) == ["/maxLaunchDelaySeconds": ["must be >= 0"]])
        #expect(try Check.fields(#""maxLaunchDelaySeconds":3600"#).isEmpty)
        #expect(
            try Check.fields(#""maxLaunchDelaySeconds":1e12"#) == [
                "/maxLaunchDelaySeconds": ["must be <= 315360000 (ten years)"]
            ]
        )
    }

    // MARK: upgradeStrategy, killSelection, unreachableStrategy, taskKillGracePeriodSeconds

    @Test func upgradeStrategyValuesMustBeFractions() throws {
        let errors = try Check.fields(#""upgradeStrategy":{"minimumHealthCapacity":1.5,"maximumOverCapacity":-0.1}"#)
        #expect(
            errors == [
                "/upgradeStrategy/minimumHealthCapacity": ["must be between 0 and 1"],
                "/upgradeStrategy/maximumOverCapacity": ["must be between 0 and 1"],
            ]
        )
        #expect(try Check.fields(#""upgradeStrategy":{"minimumHealthCapacity":0,"maximumOverCapacity":0}"#).isEmpty)
        #expect(try Check.fields(#""upgradeStrategy":{"minimumHealthCapacity":1,"maximumOverCapacity":1}"#).isEmpty)
    }

    @Test func killSelectionMustBeKnown() throws {
        #expect(
            try Check.fields(#""killSelection":"RANDOM""#) == [
                "/killSelection": ["must be YOUNGEST_FIRST or OLDEST_FIRST"]
            ]
        )
        #expect(try Check.fields(#""killSelection":"youngest_first""#)["/killSelection"] != nil)
        #expect(try Check.fields(#""killSelection":"OLDEST_FIRST""#).isEmpty)
        #expect(try Check.fields(#""killSelection":"YOUNGEST_FIRST""#).isEmpty)
    }

    @Test func unreachableStrategyRules() throws {
        #expect(
            try Check.fields(#""unreachableStrategy":{"inactiveAfterSeconds":600,"expungeAfterSeconds":300}"#) == [
                "/unreachableStrategy/inactiveAfterSeconds": ["must be <= expungeAfterSeconds (300)"]
            ]
        )
        #expect(
            try Check.fields(#""unreachableStrategy":{"inactiveAfterSeconds":-1,"expungeAfterSeconds":-1}"#) == [
                "/unreachableStrategy/inactiveAfterSeconds": ["must be >= 0"],
                "/unreachableStrategy/expungeAfterSeconds": ["must be >= 0"],
            ]
        )
        #expect(
            try Check.fields(#""unreachableStrategy":{"inactiveAfterSeconds":300,"expungeAfterSeconds":300}"#).isEmpty
        )
        #expect(try Check.fields(#""unreachableStrategy":{"inactiveAfterSeconds":0,"expungeAfterSeconds":0}"#).isEmpty)
        #expect(try Check.fields(#""unreachableStrategy":"disabled""#).isEmpty)
    }

    @Test func taskKillGracePeriodMustBePositiveWhenSet() throws {
        #expect(
            try Check.fields(#""taskKillGracePeriodSeconds":0"#) == [
                "/taskKillGracePeriodSeconds": ["must be > 0 when set; leave it out to use the agent's default"]
            ]
        )
        #expect(try Check.fields(#""taskKillGracePeriodSeconds":-3"#)["/taskKillGracePeriodSeconds"] != nil)
        #expect(try Check.fields(#""taskKillGracePeriodSeconds":0.5"#).isEmpty)
        #expect(try Check.fields(#""taskKillGracePeriodSeconds":null"#).isEmpty)
    }

    // MARK: env, fetch, acceptedResourceRoles

    @Test func environmentNamesMustBeUsable() throws {
        #expect(try Check.fields(#""env":{"":"x"}"#) == ["/env/": ["variable names must not be empty"]])
        #expect(
            try Check.fields(#""env":{"a/b=c":"x"}"#) == [
                "/env/a~1b=c": ["variable name 'a/b=c' must not contain '=' or NUL"]
            ]
        )
        #expect(try Check.fields(#""env":{"PATH":"/bin","lower_case":"","X1":"y"}"#).isEmpty)
    }

    @Test func fetchURIsAndRolesMustNotBeEmpty() throws {
        #expect(
            try Check.fields(#""fetch":[{"uri":"https://a/b"},{"uri":" "}]"#) == [
                "/fetch/1/uri": ["must not be empty; give the URI to download into the sandbox"]
            ]
        )
        #expect(try Check.fields(#""uris":["https://a/b"]"#).isEmpty)
        #expect(
            try Check.fields(#""acceptedResourceRoles":[]"#) == [
                "/acceptedResourceRoles": ["must not be empty when set; leave it out or list roles such as [\"*\"]"]
            ]
        )
        #expect(try Check.fields(#""acceptedResourceRoles":["*",""]"#)["/acceptedResourceRoles/1"] != nil)
        #expect(try Check.fields(#""acceptedResourceRoles":["*"]"#).isEmpty)
    }

    // MARK: portDefinitions, requirePorts

    @Test func portDefinitionPortsMustBeInRange() throws {
        #expect(
            try Check.fields(#""portDefinitions":[{"port":70000}]"#) == [
                "/portDefinitions/0/port": ["must be between 0 and 65535"]
            ]
        )
        #expect(
            try Check.fields(#""portDefinitions":[{"port":80},{"port":-1}]"#) == [
                "/portDefinitions/1/port": ["must be between 0 and 65535"]
            ]
        )
        #expect(try Check.fields(#""portDefinitions":[{"port":0},{"port":65535},{"port":1}]"#).isEmpty)
        #expect(try Check.fields(#""ports":[70000]"#)["/portDefinitions/0/port"] != nil)
    }

    @Test func nonZeroPortsMustBeUnique() throws {
        #expect(
            try Check.fields(#""portDefinitions":[{"port":8080},{"port":9000},{"port":8080}]"#) == [
                "/portDefinitions/2/port": ["duplicates /portDefinitions/0/port (8080); ports must be unique"]
            ]
        )
        #expect(try Check.fields(#""portDefinitions":[{"port":0},{"port":0}]"#).isEmpty)
        #expect(try Check.fields(#""ports":[0,0,0]"#).isEmpty)
    }

    @Test func portNamesMustBeValidAndUnique() throws {
        #expect(
            try Check.fields(#""portDefinitions":[{"port":0,"name":"HTTP"}]"#) == [
                "/portDefinitions/0/name": [
                    "must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$; use lowercase letters, digits and '-'"
                ]
            ]
        )
        #expect(try Check.fields(#""portDefinitions":[{"port":0,"name":"-a"}]"#)["/portDefinitions/0/name"] != nil)
        #expect(try Check.fields(#""portDefinitions":[{"port":0,"name":"a-"}]"#)["/portDefinitions/0/name"] != nil)
        #expect(try Check.fields(#""portDefinitions":[{"port":0,"name":""}]"#)["/portDefinitions/0/name"] != nil)
        #expect(try Check.fields(#""portDefinitions":[{"port":0,"name":"a.b"}]"#)["/portDefinitions/0/name"] != nil)
        #expect(
            try Check.fields(#""portDefinitions":[{"port":0,"name":"web"},{"port":0,"name":"web"}]"#) == [
                "/portDefinitions/1/name": ["duplicates /portDefinitions/0/name ('web'); port names must be unique"]
            ]
        )
        #expect(try Check.fields(#""portDefinitions":[{"port":0,"name":"web-1"},{"port":0,"name":"a"}]"#).isEmpty)
    }

    @Test(arguments: ["tcp", "udp", "udp,tcp"])
    func acceptsPortProtocols(value: String) throws {
        #expect(try Check.fields(#""portDefinitions":[{"port":0,"protocol":"\#(value)"}]"#).isEmpty)
    }

    @Test(arguments: ["sctp", "TCP", "", "tcp,udp,tcp"])
    func rejectsPortProtocols(value: String) throws {
        #expect(
            try Check.fields(#""portDefinitions":[{"port":0,"protocol":"\#(value)"}]"#) == [
                "/portDefinitions/0/protocol": ["must be tcp, udp or udp,tcp"]
            ]
        )
    }

    @Test func requirePortsNeedsFixedPorts() throws {
        #expect(
            try Check.fields(#""requirePorts":true,"portDefinitions":[{"port":8080},{"port":0}]"#) == [
                "/requirePorts": [
                    "cannot be true while a port is 0 (/portDefinitions/1); "
                        + "give fixed ports or set requirePorts to false"
                ]
            ]
        )
        #expect(try Check.fields(#""requirePorts":true"#)["/requirePorts"] != nil)  // the default port is 0
        #expect(try Check.fields(#""requirePorts":true,"portDefinitions":[{"port":8080}]"#).isEmpty)
        #expect(try Check.fields(#""requirePorts":true,"portDefinitions":[]"#).isEmpty)
        #expect(try Check.fields(#""requirePorts":false,"portDefinitions":[{"port":0}]"#).isEmpty)
    }

    // MARK: container

    @Test func containerTypeMustBeKnown() throws {
        #expect(try Check.fields(#""container":{"type":"RKT"}"#) == ["/container/type": ["must be DOCKER or MESOS"]])
        #expect(try Check.fields(#""container":{"type":"docker","docker":{"image":"a"}}"#)["/container/type"] != nil)
    }

    @Test func dockerNeedsAnImage() throws {
        #expect(
            try Check.fields(#""container":{"type":"DOCKER"}"#) == [
                "/container/docker": ["is required for a DOCKER container; give docker.image"]
            ]
        )
        #expect(
            try Check.fields(#""container":{"type":"DOCKER","docker":{"image":" "}}"#) == [
                "/container/docker/image": ["must not be empty; give an image such as nginx:1.25"]
            ]
        )
        #expect(
            try Check.fields(#""container":{"type":"DOCKER","docker":{"image":"a b"}}"#) == [
                "/container/docker/image": ["must be an image reference without spaces, such as nginx:1.25"]
            ]
        )
        #expect(try Check.fields(#""container":{"type":"DOCKER","docker":{"image":"nginx:1.25"}}"#).isEmpty)
    }

    @Test func mesosContainersDoNotRunDockerImages() throws {
        #expect(
            try Check.fields(#""container":{"type":"MESOS","docker":{"image":"nginx"}}"#) == [
                "/container/docker": [
                    "Docker images run only in DOCKER containers here; set container.type to DOCKER or remove docker"
                ]
            ]
        )
        #expect(try Check.fields(#""container":{"type":"MESOS"}"#).isEmpty)
    }

    @Test(arguments: ["HOST", "BRIDGE", "USER", "NONE"])
    func acceptsDockerNetworks(network: String) throws {
        let errors = try Check.document(
            #"{"id":"/a","cmd":"x","portDefinitions":[],"container":{"docker":{"image":"a","network":"\#(network)"}}}"#
        )
        #expect(errors.isEmpty)
    }

    @Test func rejectsUnknownDockerNetworks() throws {
        #expect(
            try Check.fields(#""container":{"docker":{"image":"a","network":"OVERLAY"}}"#) == [
                "/container/docker/network": ["must be HOST, BRIDGE, USER or NONE"]
            ]
        )
    }

    @Test func portMappingsNeedBridgeOrUserNetworking() throws {
        let host = #""container":{"docker":{"image":"a","network":"HOST"},"portMappings":[{"containerPort":80}]}"#
        #expect(
            try Check.fields(host) == [
                "/container/portMappings": [
                    "are only allowed with BRIDGE or USER networking; "
                        + "set container.docker.network or use portDefinitions"
                ]
            ]
        )
        let unset = #""container":{"docker":{"image":"a"},"portMappings":[{"containerPort":80}]}"#
        #expect(try Check.fields(unset)["/container/portMappings"] != nil)
        for network in ["BRIDGE", "USER"] {
            let app =
                #""container":{"docker":{"image":"a","network":"\#(network)"},"portMappings":[{"containerPort":80}]}"#
            #expect(try Check.fields(app).isEmpty, "\(network)")
        }
    }

    @Test func portDefinitionsAreRefusedWithBridgeNetworking() throws {
        let app = #""portDefinitions":[{"port":0}],"container":{"docker":{"image":"a","network":"BRIDGE"}}"#
        #expect(
            try Check.fields(app) == [
                "/portDefinitions": ["must be empty with BRIDGE networking; declare ports in container.portMappings"]
            ]
        )
        // Without portDefinitions, a BRIDGE app gets none by default.
        #expect(try Check.fields(#""container":{"docker":{"image":"a","network":"BRIDGE"}}"#).isEmpty)
    }

    @Test func portMappingPortsMustBeInRange() throws {
        let app = #"""
            "container":{"docker":{"image":"a","network":"BRIDGE"},"portMappings":[
              {"containerPort":70000,"hostPort":-1,"servicePort":65536},
              {"containerPort":0,"hostPort":0,"servicePort":0},
              {"containerPort":65535,"hostPort":65535}
            ]}
            """#
        #expect(
            try Check.fields(app) == [
                "/container/portMappings/0/containerPort": ["must be between 0 and 65535"],
                "/container/portMappings/0/hostPort": ["must be between 0 and 65535"],
                "/container/portMappings/0/servicePort": ["must be between 0 and 65535"],
            ]
        )
    }

    @Test func portMappingHostPortsAndNamesMustBeUnique() throws {
        let app = #"""
            "container":{"docker":{"image":"a","network":"BRIDGE"},"portMappings":[
              {"containerPort":80,"hostPort":8080,"name":"web"},
              {"containerPort":81,"hostPort":8080,"name":"web"},
              {"containerPort":82,"hostPort":0,"name":"Bad_Name","protocol":"icmp"},
              {"containerPort":83,"hostPort":0}
            ]}
            """#
        #expect(
            try Check.fields(app) == [
                "/container/portMappings/1/hostPort": [
                    "duplicates /container/portMappings/0/hostPort (8080); host ports must be unique"
                ],
                "/container/portMappings/1/name": [
                    "duplicates /container/portMappings/0/name ('web'); port names must be unique"
                ],
                "/container/portMappings/2/protocol": ["must be tcp, udp or udp,tcp"],
                "/container/portMappings/2/name": [
                    "must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$; use lowercase letters, digits and '-'"
                ],
            ]
        )
    }

    @Test func legacyDockerPortMappingsUseTheirOwnPath() throws {
        let legacy = #""container":{"docker":{"image":"a","network":"BRIDGE","portMappings":[{"containerPort":-1}]}}"#
        #expect(
            try Check.fields(legacy) == [
                "/container/docker/portMappings/0/containerPort": ["must be between 0 and 65535"]
            ]
        )
        let both = #"""
            "container":{"docker":{"image":"a","network":"BRIDGE","portMappings":[{"containerPort":80}]},
                         "portMappings":[{"containerPort":80}]}
            """#
        #expect(
            try Check.fields(both) == [
                "/container/docker/portMappings": [
                    "cannot be combined with container.portMappings; keep only container.portMappings"
                ]
            ]
        )
    }

    @Test func privilegedContainersNeedAllowPrivileged() throws {
        // Given / When: the default policy
        let refused = try Check.fields(#""container":{"docker":{"image":"a","privileged":true}}"#)
        // Then: 422 details name the field and the flag
        #expect(
            refused == [
                "/container/docker/privileged": [
                    "privileged containers are not allowed; start the scheduler and its agents with "
                        + "--allow_privileged to allow it"
                ]
            ]
        )
        #expect(try Check.fields(#""container":{"docker":{"image":"a","privileged":false}}"#).isEmpty)
        // And the operator's flag allows it
        #expect(
            try Check.fields(
                #""container":{"docker":{"image":"a","privileged":true}}"#,
                policy: ContainerPolicy(allowPrivileged: true)
            ).isEmpty
        )
    }

    @Test func hostVolumesNeedAllowedHostPaths() throws {
        // Given: a sandbox volume, a volume of the host's root, one escaping the sandbox, and a malformed one
        let app = #"""
            "container":{"docker":{"image":"a"},"volumes":[
              {"containerPath":"/data","hostPath":"data","mode":"RW"},
              {"containerPath":"/host","hostPath":"/","mode":"RW"},
              {"containerPath":"/up","hostPath":"../..","mode":"RO"},
              {"containerPath":"","mode":"RX"}
            ]}
            """#
        // When / Then
        #expect(
            try Check.fields(app) == [
                "/container/volumes/1/hostPath": [
                    "host path '/' is not under --allowed_host_paths; start the scheduler and its agents with "
                        + "--allowed_host_paths=/ to allow it"
                ],
                "/container/volumes/2/hostPath": ["host path '../..' contains '..'; give the path without '..'"],
                "/container/volumes/3/containerPath": ["must not be empty"],
                "/container/volumes/3/mode": ["must be RO or RW"],
            ]
        )
        // And an allowed path is accepted, a sibling with the same prefix is not
        let policy = ContainerPolicy(allowedHostPaths: ["/srv/data"])
        #expect(
            try Check.fields(
                #""container":{"docker":{"image":"a"},"volumes":[{"containerPath":"/d","hostPath":"/srv/data/x"}]}"#,
                policy: policy
            ).isEmpty
        )
        #expect(
            try Check.fields(
                #""container":{"docker":{"image":"a"},"volumes":[{"containerPath":"/d","hostPath":"/srv/database"}]}"#,
                policy: policy
            ).keys.contains("/container/volumes/0/hostPath")
        )
    }

    @Test(arguments: ["privileged", "--privileged", "volume", "v", "-v", "mount", "cap-add", "device", "pid", "Volume"])
    func dockerParametersGrantingHostAccessNeedAllowPrivileged(key: String) throws {
        // Given
        let values = [
            "mount": "type=bind,source=/,target=/host", "device": "/dev/fuse", "volume": "/:/host",
            "privileged": "true",
        ]
        let value = values[DockerParameter.canonicalKey(key)] ?? "host"
        let fields =
            #""container":{"docker":{"image":"a","parameters":["#
            + #"{"key":"label","value":"x"},{"key":"\#(key)","value":"\#(value)"}]}}"#
        // When
        let errors = try Check.fields(fields)
        // Then
        #expect(
            errors == [
                "/container/docker/parameters/1/key": [
                    "the Docker parameter '\(key)=\(value)' gives the container access to the host; start the "
                        + "scheduler and its agents with --allow_privileged to allow it"
                ]
            ]
        )
        #expect(try Check.fields(fields, policy: ContainerPolicy(allowPrivileged: true)).isEmpty)
    }

    @Test func unknownAndMalformedDockerParametersAreRefused() throws {
        // Given / When
        let errors = try Check.fields(
            #""container":{"docker":{"image":"a","parameters":["#
                + #"{"key":"dns","value":"10.0.0.2"},{"key":"restart","value":"always"},"#
                + #"{"key":"env","value":"NOEQUALS"},{"key":"network","value":"host"}]}}"#
        )
        // Then: the unknown key, the malformed value and the host network each name their field
        #expect(errors["/container/docker/parameters/0/key"] == nil)
        #expect(
            errors["/container/docker/parameters/1/key"]?.first?.hasPrefix(
                "the Docker parameter 'restart' is not supported; supported parameters: add-host, "
            ) == true
        )
        #expect(
            errors["/container/docker/parameters/2/value"] == [
                "the Docker parameter 'env' has the value 'NOEQUALS'; write it as NAME=value"
            ]
        )
        #expect(errors["/container/docker/parameters/3/key"]?.first?.contains("--allow_privileged") == true)
        #expect(errors.count == 3)
    }

    @Test func appsCarryAtMostTheCappedNumberOfEntries() throws {
        // Given: one more of each than allowed
        func list(_ count: Int, _ entry: (Int) -> String) -> String {
            (0..<count).map(entry).joined(separator: ",")
        }
        let labels = list(101) { #""l\#($0)":"v""# }
        let env = list(101) { #""E\#($0)":"v""# }
        let constraints = list(51) { _ in #"["hostname","UNIQUE"]"# }
        let checks = list(21) { _ in #"{"protocol":"TCP"}"# }
        let ports = list(101) { _ in #"{"port":0}"# }
        let fetch = list(65) { #"{"uri":"http://x/\#($0)"}"# }
        let app =
            #"{"id":"/web","cmd":"run","labels":{"# + labels + #"},"env":{"# + env + #"},"constraints":["#
            + constraints + #"],"healthChecks":["# + checks + #"],"portDefinitions":["# + ports + #"],"fetch":["#
            + fetch + "]}"
        // When
        let errors = try Check.document(app)
        // Then: 422 names each field
        for (field, maximum) in [
            ("/labels", 100), ("/env", 100), ("/constraints", 50), ("/healthChecks", 20), ("/portDefinitions", 100),
            ("/fetch", 64),
        ] {
            let capped = errors[field]?.contains { $0.hasPrefix("must have at most \(maximum) entries") }
            #expect(capped == true, "\(field)")
        }
    }

    @Test func likePatternsAreLengthCapped() throws {
        let long = String(repeating: "a", count: 257)
        #expect(
            try Check.fields(#""constraints":[["rack","LIKE","\#(long)"]]"#) == [
                "/constraints/0": ["LIKE pattern must be at most 256 characters"]
            ]
        )
        #expect(try Check.fields(#""constraints":[["rack","UNLIKE","\#(String(long.dropLast()))"]]"#).isEmpty)
    }

    @Test func dockerParameterKeysMustNotBeEmpty() throws {
        #expect(
            try Check.fields(#""container":{"docker":{"image":"a","parameters":[{"key":"","value":"x"}]}}"#) == [
                "/container/docker/parameters/0/key": ["must not be empty; give a docker run option name"]
            ]
        )
    }

    // MARK: constraints

    @Test(arguments: [
        #"["hostname","UNIQUE"]"#, #"["rack","CLUSTER","a"]"#, #"["rack","CLUSTER"]"#, #"["rack","GROUP_BY"]"#,
        #"["rack","GROUP_BY","3"]"#, #"["rack","LIKE","rack-[0-9]+"]"#, #"["rack","UNLIKE","^a$"]"#,
        #"["hostname","MAX_PER","2"]"#, #"["zone","IS","1"]"#, #"["@zone","IS","us-east-1a"]"#,
    ])
    func acceptsValidConstraints(constraint: String) throws {
        #expect(try Check.fields(#""constraints":[\#(constraint)]"#).isEmpty)
    }

    @Test(arguments: [
        (#"["hostname"]"#, "must have 2 or 3 elements: [field, operator] or [field, operator, value]"),
        (#"[]"#, "must have 2 or 3 elements: [field, operator] or [field, operator, value]"),
        (#"["a","LIKE","b","c"]"#, "must have 2 or 3 elements: [field, operator] or [field, operator, value]"),
        (#"["hostname","UNIQUE","x"]"#, "UNIQUE takes no value; remove the third element"),
        (#"["","UNIQUE"]"#, "field must not be empty; use hostname or an agent attribute name"),
        (
            #"["hostname","FOO"]"#,
            "operator 'FOO' is unknown; use one of UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS"
        ),
        (
            #"["hostname","unique"]"#,
            "operator 'unique' is unknown; use one of UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS"
        ),
        (#"["rack","LIKE"]"#, "LIKE needs a regular expression as the third element"),
        (#"["rack","UNLIKE"]"#, "UNLIKE needs a regular expression as the third element"),
        (#"["rack","LIKE","["]"#, "'[' is not a valid regular expression"),
        (#"["rack","UNLIKE","(a"]"#, "'(a' is not a valid regular expression"),
        (
            #"["rack","MAX_PER"]"#,
            #"MAX_PER needs a positive integer as the third element, e.g. ["hostname", "MAX_PER", "2"]"#
        ),
        (#"["rack","MAX_PER","0"]"#, "MAX_PER value '0' must be a positive integer"),
        (#"["rack","MAX_PER","two"]"#, "MAX_PER value 'two' must be a positive integer"),
        (
            #"["rack","GROUP_BY","-1"]"#,
            "GROUP_BY value '-1' must be a positive integer (the number of groups), or leave it out"
        ),
        (
            #"["rack","GROUP_BY","x"]"#,
            "GROUP_BY value 'x' must be a positive integer (the number of groups), or leave it out"
        ),
        (#"["rack","IS"]"#, "IS needs the value to compare with as the third element"),
        (#"["rack","CLUSTER",""]"#, "CLUSTER value must not be empty; remove it or give the value to match"),
    ])
    func rejectsInvalidConstraints(constraint: String, expected: String) throws {
        let errors = try Check.fields(#""constraints":[["hostname","UNIQUE"],\#(constraint)]"#)
        #expect(errors == ["/constraints/1": [expected]])
    }

    // MARK: health checks

    @Test(arguments: ["HTTP", "HTTPS", "TCP", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP"])
    func acceptsPortHealthCheckProtocols(value: String) throws {
        #expect(try Check.fields(#""healthChecks":[{"protocol":"\#(value)"}]"#).isEmpty)
    }

    @Test func rejectsUnknownHealthCheckProtocols() throws {
        #expect(
            try Check.fields(#""healthChecks":[{"protocol":"HTTP2"}]"#) == [
                "/healthChecks/0/protocol": [
                    "must be one of HTTP, HTTPS, TCP, COMMAND, MESOS_HTTP, MESOS_HTTPS, MESOS_TCP"
                ]
            ]
        )
    }

    @Test func commandChecksNeedACommand() throws {
        #expect(
            try Check.fields(#""healthChecks":[{"protocol":"COMMAND"}]"#) == [
                "/healthChecks/0/command": ["is required for protocol COMMAND; give command.value"]
            ]
        )
        #expect(
            try Check.fields(#""healthChecks":[{"protocol":"COMMAND","command":{"value":" "}}]"#) == [
                "/healthChecks/0/command/value": [
                    "must not be empty; give the shell command whose exit code 0 means healthy"
                ]
            ]
        )
        #expect(
            try Check.fields(#""healthChecks":[{"protocol":"COMMAND","command":{"value":"curl -f localhost"}}]"#)
                .isEmpty
        )
        #expect(
            try Check.fields(#""healthChecks":[{"protocol":"HTTP","command":{"value":"true"}}]"#) == [
                "/healthChecks/0/command": ["is only used with protocol COMMAND; remove it or change protocol"]
            ]
        )
    }

    @Test func portIndexMustAddressADeclaredPort() throws {
        #expect(
            try Check.fields(#""healthChecks":[{"protocol":"HTTP","portIndex":1}]"#) == [
                "/healthChecks/0/portIndex": ["must address one of the app's 1 port(s): use 0"]
            ]
        )
        #expect(
            try Check.fields(#""ports":[0,0,0],"healthChecks":[{"protocol":"TCP","portIndex":3}]"#) == [
                "/healthChecks/0/portIndex": ["must address one of the app's 3 port(s): use 0 to 2"]
            ]
        )
        #expect(
            try Check.fields(#""ports":[0,0],"healthChecks":[{"protocol":"TCP","portIndex":-1}]"#)[
                "/healthChecks/0/portIndex"
            ] != nil
        )
        #expect(try Check.fields(#""ports":[0,0],"healthChecks":[{"protocol":"TCP","portIndex":1}]"#).isEmpty)
    }

    @Test func portIndexCountsPortMappingsWhenPresent() throws {
        let app = #"""
            "container":{"docker":{"image":"a","network":"BRIDGE"},
                         "portMappings":[{"containerPort":80},{"containerPort":81}]},
            "healthChecks":[{"protocol":"MESOS_HTTP","portIndex":1}]
            """#
        #expect(try Check.fields(app).isEmpty)
        let noPorts = #"""
            "container":{"docker":{"image":"a","network":"BRIDGE"}},"healthChecks":[{"protocol":"HTTP"}]
            """#
        #expect(
            try Check.fields(noPorts) == [
                "/healthChecks/0/portIndex": [
                    "the app declares no ports; add a port definition or port mapping, or give port instead"
                ]
            ]
        )
    }

    @Test func explicitPortsMustBeInRangeAndNotCombined() throws {
        #expect(
            try Check.fields(#""healthChecks":[{"protocol":"TCP","port":70000}]"#) == [
                "/healthChecks/0/port": ["must be between 0 and 65535"]
            ]
        )
        #expect(
            try Check.fields(#""healthChecks":[{"protocol":"TCP","port":8080,"portIndex":0}]"#) == [
                "/healthChecks/0/port": ["cannot be combined with portIndex; use one of them"]
            ]
        )
        #expect(try Check.fields(#""portDefinitions":[],"healthChecks":[{"protocol":"TCP","port":8080}]"#).isEmpty)
    }

    @Test func checksBuiltInSwiftNeedAPort() {
        var app = AppDefinition(id: "/a", cmd: "x")
        app.healthChecks = [AppHealthCheck(protocol: "TCP", path: nil, portIndex: nil)]
        #expect(
            Check.map(AppValidator.validate(app)) == [
                "/healthChecks/0": ["needs port or portIndex to know where to connect"]
            ]
        )
    }

    @Test func httpPathsMustBeAbsolute() throws {
        #expect(
            try Check.fields(#""healthChecks":[{"protocol":"HTTP","path":"health"}]"#) == [
                "/healthChecks/0/path": ["must start with '/', e.g. /health"]
            ]
        )
        #expect(try Check.fields(#""healthChecks":[{"protocol":"MESOS_HTTPS","path":"/v1/health?full=1"}]"#).isEmpty)
    }

    @Test func healthCheckTimingRules() throws {
        let errors = try Check.fields(
            #"""
            "healthChecks":[{"protocol":"TCP","intervalSeconds":0,"timeoutSeconds":-1,"gracePeriodSeconds":-1,
                             "delaySeconds":-2,"maxConsecutiveFailures":-1}]
            """#
        )
        #expect(
            errors == [
                "/healthChecks/0/intervalSeconds": ["must be > 0"],
                "/healthChecks/0/timeoutSeconds": ["must be > 0"],
                "/healthChecks/0/gracePeriodSeconds": ["must be >= 0"],
                "/healthChecks/0/delaySeconds": ["must be >= 0"],
                "/healthChecks/0/maxConsecutiveFailures": ["must be >= 0"],
            ]
        )
        let zeroes = #""healthChecks":[{"protocol":"TCP","gracePeriodSeconds":0,"maxConsecutiveFailures":0}]"#
        #expect(try Check.fields(zeroes).isEmpty)
    }

    @Test func timeoutLongerThanIntervalIsAcceptedAsMarathonDoes() throws {
        #expect(
            try Check.fields(#""healthChecks":[{"protocol":"TCP","intervalSeconds":5,"timeoutSeconds":20}]"#).isEmpty
        )
    }

    @Test func atMostOneAgentRunHealthCheck() throws {
        let two = #"""
            "ports":[0,0],
            "healthChecks":[{"protocol":"MESOS_HTTP","portIndex":0},{"protocol":"HTTP"},
                            {"protocol":"MESOS_TCP","portIndex":1},{"protocol":"COMMAND","command":{"value":"true"}}]
            """#
        let expected =
            "only one COMMAND or MESOS_* health check is allowed per app (/healthChecks/0 is one); "
            + "the agent runs a single check per task"
        #expect(try Check.fields(two) == ["/healthChecks/2": [expected], "/healthChecks/3": [expected]])
        let mixed = #""healthChecks":[{"protocol":"HTTP"},{"protocol":"TCP"},{"protocol":"MESOS_TCP"}]"#
        #expect(try Check.fields(mixed).isEmpty)
    }

    // MARK: many violations

    @Test func reportsEveryViolationGroupedByPath() throws {
        // Given an app breaking many rules at once
        let json = #"""
            {"id":"/Bad/restart","cpus":0,"mem":-1,"instances":-1,
             "constraints":[["hostname","FOO"],["rack","UNIQUE","x"]],
             "upgradeStrategy":{"minimumHealthCapacity":2},
             "portDefinitions":[{"port":80},{"port":80,"protocol":"sctp"}],
             "container":{"docker":{"image":"a","privileged":true}},
             "healthChecks":[{"protocol":"HTTP","portIndex":5}]}
            """#
        // When
        let violations = AppValidator.validate(try Check.app(json))
        // Then every path appears once, in a stable order, with all of its errors
        #expect(
            violations.map(\.path) == [
                "/id", "/cpus", "/mem", "/instances", "/constraints/0", "/constraints/1", "/portDefinitions/1/port",
                "/portDefinitions/1/protocol", "/container/docker/privileged", "/healthChecks/0/portIndex",
                "/upgradeStrategy/minimumHealthCapacity",
            ]
        )
        let id = try #require(violations.first { $0.path == "/id" })
        #expect(id.errors.count == 2)
        #expect(id.errors[0].hasPrefix("segment 'Bad' must match"))
        #expect(id.errors[1].hasPrefix("must not end with 'restart'"))
        #expect(Set(violations.map(\.path)).count == violations.count)
        #expect(violations.allSatisfy { !$0.errors.isEmpty })
    }

    @Test func violationsEncodeAsMarathonDetails() throws {
        let violations = AppValidator.validate(AppDefinition(id: "/a", cmd: "x", cpus: 0))
        let data = try JSONEncoder().encode(violations)
        let objects = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(objects.count == 1)
        #expect(objects[0]["path"] as? String == "/cpus")
        #expect(objects[0]["errors"] as? [String] == ["must be >= 0.001"])
        #expect(try JSONDecoder().decode([ValidationViolation].self, from: data) == violations)
    }
}
