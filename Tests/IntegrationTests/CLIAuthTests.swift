// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// The `regatta` CLI against a real scheduler that requires credentials.
@Suite(.serialized) struct CLIAuthTests {
    /// Runs the CLI with `environment` added (and `REGATTA_USER`/`REGATTA_TOKEN` of the test run removed);
    /// stdout and stderr apart.
    static func cli(
        _ arguments: [String],
        environment: [String: String] = [:]
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        let out = Pipe()
        let err = Pipe()
        process.executableURL = URL(fileURLWithPath: Package.regatta)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["REGATTA_USER"] = nil
        env["REGATTA_TOKEN"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
        )
    }

    @Test func theCLIAuthenticatesWithUserTokenOrEnvironmentAndSaysWhatToDoOn401() async throws {
        // Given a scheduler that requires credentials
        let cluster = try await AuthScheduler.start()
        let scheduler = ["--scheduler", cluster.url]
        let user = "\(AuthScheduler.user):\(AuthScheduler.password)"
        let app = cluster.dir.appendingPathComponent("app.json")
        try #"{"id":"/cli-auth","cmd":"sleep 1000","cpus":0.01,"mem":16,"instances":0}"#.write(
            to: app,
            atomically: true,
            encoding: .utf8
        )
        do {
            // When the CLI calls without credentials
            let anonymous = try Self.cli(["app", "list"] + scheduler)
            // Then exactly one line says what to pass, and it exits non-zero
            #expect(anonymous.status != 0)
            #expect(
                anonymous.stderr
                    == "Error: \(cluster.url) requires authentication: pass --user PRINCIPAL:SECRET or --token TOKEN "
                    + "(or set REGATTA_USER or REGATTA_TOKEN) (HTTP 401)\n"
            )

            // When it calls with --user, REGATTA_USER and --token
            let added = try Self.cli(["app", "add", app.path, "--user", user] + scheduler)
            let listed = try Self.cli(["app", "list"] + scheduler, environment: ["REGATTA_USER": user])
            let shown = try Self.cli(["app", "show", "/cli-auth", "--token", AuthScheduler.password] + scheduler)
            let fromEnvToken = try Self.cli(
                ["task", "list"] + scheduler,
                environment: ["REGATTA_TOKEN": AuthScheduler.password]
            )
            // Then every call works
            #expect(added.status == 0, "\(added.stderr)")
            #expect(added.stdout.hasPrefix("Created /cli-auth"))
            #expect(listed.status == 0, "\(listed.stderr)")
            #expect(listed.stdout.contains("/cli-auth"))
            #expect(shown.status == 0, "\(shown.stderr)")
            #expect(fromEnvToken.status == 0, "\(fromEnvToken.stderr)")

            // When the credentials are wrong, or a read-only user writes
            let wrongUser = try Self.cli(["app", "list", "--user", "\(AuthScheduler.user):nope"] + scheduler)
            let wrongToken = try Self.cli(["app", "list"] + scheduler, environment: ["REGATTA_TOKEN": "nope"])
            let viewer = try Self.cli(
                ["app", "remove", "/cli-auth", "--user", "\(AuthScheduler.viewer):\(AuthScheduler.viewerPassword)"]
                    + scheduler
            )
            // Then one line each, without the secret
            #expect(wrongUser.status != 0)
            #expect(
                wrongUser.stderr
                    == "Error: \(cluster.url) refused user 'admin': check the principal and secret given with --user "
                    + "or REGATTA_USER (HTTP 401)\n"
            )
            #expect(wrongToken.status != 0)
            #expect(
                wrongToken.stderr
                    == "Error: \(cluster.url) refused the token given with --token or REGATTA_TOKEN (HTTP 401)\n"
            )
            #expect(viewer.status != 0)
            #expect(viewer.stderr.split(separator: "\n").count == 1)
            #expect(viewer.stderr.hasPrefix("Error: user 'viewer' may not DELETE /v2/apps/cli-auth on \(cluster.url)"))
            #expect(viewer.stderr.hasSuffix("(HTTP 403)\n"))
            for output in [wrongUser, wrongToken, viewer] {
                #expect(!output.stderr.contains("nope") && !output.stderr.contains(AuthScheduler.viewerPassword))
            }

            // When both are given, or --user has no secret
            let both = try Self.cli(["app", "list", "--user", user, "--token", "t"] + scheduler)
            let bothInEnvironment = try Self.cli(
                ["app", "list"] + scheduler,
                environment: ["REGATTA_USER": user, "REGATTA_TOKEN": "t"]
            )
            let noSecret = try Self.cli(["app", "list", "--user", "admin"] + scheduler)
            // Then the CLI refuses before calling
            #expect(both.status != 0)
            #expect(both.stderr.hasPrefix("Error: give --user or --token, not both."))
            #expect(bothInEnvironment.stderr.hasPrefix("Error: give REGATTA_USER or REGATTA_TOKEN, not both."))
            #expect(noSecret.stderr.hasPrefix("Error: --user takes PRINCIPAL:SECRET"))

            // And the app the read-only user tried to remove is still there
            let still = try Self.cli(["app", "show", "/cli-auth", "--user", user] + scheduler)
            #expect(still.status == 0)
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }
}
