// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Testing

/// The one container policy shared by the scheduler's validator and the agent.
@Suite struct ContainerPolicyTests {
    private let closed = ContainerPolicy()
    private let open = ContainerPolicy(allowedHostPaths: ["/srv/data", "/var/log/"], allowPrivileged: true)

    @Test func privilegedNeedsTheFlag() {
        // Given: the default policy
        // When / Then
        let refusal = self.closed.checkPrivileged(true)
        #expect(refusal?.flag == "--allow_privileged")
        #expect(
            refusal?.description
                == "privileged containers are not allowed; start the agent with --allow_privileged to allow it"
        )
        #expect(self.closed.checkPrivileged(false) == nil)
        #expect(self.closed.checkPrivileged(nil) == nil)
        #expect(self.open.checkPrivileged(true) == nil)
    }

    @Test func hostPathsAreAllowedOnlyUnderTheAllowedPaths() {
        // Given: a table of host paths and whether each policy allows them
        let cases: [(path: String, closed: Bool, open: Bool)] = [
            ("scratch", true, true),  // sandbox-relative
            ("a/b/./c", true, true),
            ("/", false, false),
            ("/etc", false, false),
            ("/srv/data", false, true),
            ("/srv/data/", false, true),
            ("//srv//data/x", false, true),
            ("/srv/data/./x", false, true),
            ("/srv/database", false, false),  // a sibling with the same prefix
            ("/srv", false, false),
            ("/var/log/app", false, true),
            ("/srv/data/../../etc", false, false),  // `..` is refused even under an allowed path
            ("../escape", false, false),
            ("a/../../b", false, false),
            ("", false, false),
            ("/srv/data/\0x", false, false),
        ]
        for (path, closed, open) in cases {
            // When / Then
            #expect((self.closed.checkHostPath(path) == nil) == closed, "closed: '\(path)'")
            #expect((self.open.checkHostPath(path) == nil) == open, "open: '\(path)'")
        }
    }

    @Test func hostPathRefusalsNameTheFlagAndTheValueThatAllowsThem() {
        // Given / When
        let root = self.closed.checkHostPath("/")
        let more = ContainerPolicy(allowedHostPaths: ["/srv"]).checkHostPath("/etc//ssl")
        let dots = self.closed.checkHostPath("/srv/../etc")
        // Then
        #expect(
            root?.description
                == "host path '/' is not under --allowed_host_paths; start the agent with --allowed_host_paths=/ to "
                + "allow it"
        )
        #expect(more?.flag == "--allowed_host_paths=/srv,/etc/ssl")
        #expect(dots?.flag == nil)
        #expect(dots?.problem.contains("'..'") == true)
        #expect(
            root?.message(for: "scheduler and its agents")
                == "host path '/' is not under --allowed_host_paths; start the scheduler and its agents with "
                + "--allowed_host_paths=/ to allow it"
        )
    }

    @Test func resolvedPathsAreCheckedAgainAfterRealpath() {
        // Given: `/srv/data/link` is a symlink to `/etc`, which the agent resolved with realpath
        let policy = ContainerPolicy(allowedHostPaths: ["/srv/data"])
        // When / Then: the name is allowed, the resolved target is not
        #expect(policy.checkHostPath("/srv/data/link") == nil)
        #expect(policy.checkResolvedHostPath("/etc")?.flag == "--allowed_host_paths=/srv/data,/etc")
        #expect(policy.checkResolvedHostPath("/srv/data/real") == nil)
        // And `/` allows everything
        #expect(ContainerPolicy(allowedHostPaths: ["/"]).checkResolvedHostPath("/etc/shadow") == nil)
    }

    @Test func allowedHostPathsFlagIsParsed() throws {
        #expect(try ContainerPolicy.parseAllowedHostPaths("/srv/data, /var/log/") == ["/srv/data", "/var/log"])
        #expect(try ContainerPolicy.parseAllowedHostPaths("/") == ["/"])
        for bad in ["", "srv", "/srv,", "/srv/../etc", ",/srv"] {
            #expect(throws: ContainerPolicyViolation.self, "'\(bad)'") {
                try ContainerPolicy.parseAllowedHostPaths(bad)
            }
        }
    }

    @Test func dockerParametersAreClassifiedExhaustively() throws {
        // Given: one valid example of every supported parameter, and whether it reaches the host
        let table: [(key: String, value: String, host: Bool)] = [
            ("add-host", "db:10.0.0.5", false), ("cap-drop", "NET_RAW", false), ("dns", "10.0.0.2", false),
            ("dns-option", "ndots:2", false), ("dns-search", "example.com", false), ("env", "A=b=c", false),
            ("group-add", "audio", false), ("hostname", "web-1", false), ("init", "true", false),
            ("label", "tier=front", false), ("log-driver", "json-file", false), ("log-opt", "max-size=10m", false),
            ("network", "bridge", false), ("network", "none", false), ("read-only", "", false),
            ("shm-size", "64m", false), ("tmpfs", "/run:size=64m", false), ("ulimit", "nofile=1024:4096", false),
            ("user", "65534", false), ("workdir", "/app", false),
            ("network", "host", true), ("cap-add", "SYS_ADMIN", true), ("cgroup-parent", "/custom", true),
            ("cgroupns", "host", true), ("device", "/dev/fuse", true), ("device-cgroup-rule", "c 1:3 mr", true),
            ("ipc", "host", true), ("mount", "type=bind,source=/etc,target=/host-etc,readonly", true),
            ("pid", "host", true), ("privileged", "true", true), ("security-opt", "seccomp=unconfined", true),
            ("userns", "host", true), ("uts", "host", true), ("volume", "/:/host", true),
            ("volumes-from", "other", true),
        ]
        let covered = Set(table.map { DockerParameter.canonicalKey($0.key) })
        #expect(covered == Set(DockerParameter.supported))
        for (key, value, host) in table {
            // When
            let parsed = try DockerParameter.parse(key: key, value: value)
            // Then: host-access parameters need --allow_privileged, the others are always accepted
            #expect((parsed.access == .host) == host, "\(key)=\(value)")
            let refusal: ContainerPolicyViolation?
            do {
                _ = try self.closed.dockerParameter(key: key, value: value)
                refusal = nil
            } catch {
                refusal = error
            }
            #expect((refusal != nil) == host, "\(key)=\(value)")
            if host { #expect(refusal?.flag == "--allow_privileged", "\(key)=\(value)") }
            #expect((try? self.open.dockerParameter(key: key, value: value)) != nil, "\(key)=\(value)")
        }
    }

    @Test func dockerParameterKeysAreCanonicalized() throws {
        #expect(try DockerParameter.parse(key: "--DNS", value: "1.1.1.1").option == .dns("1.1.1.1"))
        #expect(try DockerParameter.parse(key: "e", value: "A=1").option == .env(name: "A", value: "1"))
        #expect(try DockerParameter.parse(key: "v", value: "/a:/b").access == .host)
        #expect(try DockerParameter.parse(key: "net", value: "HOST").option == .network("host"))
        #expect(try DockerParameter.parse(key: "dns-opt", value: "rotate").key == "dns-option")
        #expect(try DockerParameter.parse(key: "cap-drop", value: "cap_net_raw").option == .capDrop("NET_RAW"))
        #expect(try DockerParameter.parse(key: "label", value: "flag").option == .label(key: "flag", value: ""))
        #expect(try DockerParameter.parse(key: "add-host", value: "h=::1").option == .addHost("h:::1"))
        #expect(
            try DockerParameter.parse(key: "ulimit", value: "core=-1").option
                == .ulimit(name: "core", soft: -1, hard: -1)
        )
        #expect(try DockerParameter.parse(key: "shm-size", value: "1g").option == .shmSize(1 << 30))
    }

    @Test func unknownAndMalformedParametersAreRefusedWithAMessage() {
        // Given: unknown keys and malformed values
        let cases: [(String, String, String)] = [
            ("restart", "always", "is not supported; supported parameters: add-host"),
            ("oom-kill-disable", "", "is not supported"),
            ("", "x", "is not supported"),
            ("env", "NO_EQUALS", "write it as NAME=value"),
            ("env", "=x", "write it as NAME=value"),
            ("ulimit", "nofile=4096:1024", "soft <= hard"),
            ("ulimit", "bogus=1", "unknown limit 'bogus'"),
            ("workdir", "relative", "an absolute path"),
            ("shm-size", "99999999999g", "a size such as 64m"),
            ("init", "maybe", "true or false"),
            ("network", "my-overlay", "use bridge, none or host"),
            ("cap-add", "NET ADMIN", "a capability such as"),
            ("mount", "type=bind,target=/x", "type=bind,source="),
            ("device", "relative", "/host/device"),
            ("add-host", "nohost", "host:address"),
        ]
        for (key, value, expected) in cases {
            // When
            let message: String
            do {
                _ = try self.open.dockerParameter(key: key, value: value)
                message = "accepted"
            } catch {
                message = error.description
            }
            // Then
            #expect(message.contains(expected), "\(key)=\(value): \(message)")
        }
    }
}
