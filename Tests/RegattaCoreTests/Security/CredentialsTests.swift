// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@Suite struct CredentialsTests {
    private func file(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "regatta-credentials-\(UUID().uuidString)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func mesosJSONCredentialsFileIsRead() throws {
        let path = try self.file(
            #"{"credentials": [{"principal": "marathon", "secret": "s3cret"}, {"principal": "ops", "secret": "x"}]}"#
        )
        let store = try CredentialStore.mesosFile(at: path)
        #expect(store.principals == ["marathon", "ops"])
        #expect(store.verify(principal: "marathon", secret: "s3cret"))
        #expect(!store.verify(principal: "marathon", secret: "x"))
        #expect(!store.verify(principal: "nobody", secret: "s3cret"))
        #expect(store.principal(forToken: "x") == "ops")
        #expect(store.principal(forToken: "s3cre") == nil)
    }

    @Test func mesosTextCredentialsFileIsRead() throws {
        let path = try self.file("# operators\nmarathon s3cret\n\nops x\n")
        #expect(try CredentialStore.mesosFile(at: path).principals == ["marathon", "ops"])
    }

    @Test(arguments: [
        (#"{"credentials": []}"#, "lists no principal"),
        (#"{"credentials": [{"principal": "a"}]}"#, "'principal' and 'secret'"),
        (#"{"credentials": [{"principal": "a", "secret": "b", "role": "x"}]}"#, "unknown field(s) role"),
        (#"{"creds": []}"#, "unknown field(s) creds"),
        (#"{"credentials": [{"principal": "a", "secret": "b"}, {"principal": "a", "secret": "c"}]}"#, "given twice"),
        ("a b c\n", "Line 1"),
        (#"{"credentials": [{"principal": "a:b", "secret": "c"}]}"#, "contains ':'"),
    ])
    func badCredentialsFilesAreRefusedWithTheReason(text: String, reason: String) throws {
        let path = try self.file(text)
        let error = #expect(throws: SecurityError.self) { try CredentialStore.mesosFile(at: path) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }

    @Test func aMissingFileIsNamed() throws {
        let error = #expect(throws: SecurityError.self) { try CredentialStore.mesosFile(at: "/nonexistent/creds") }
        #expect(error?.message.contains("/nonexistent/creds") == true)
    }

    @Test func agentCredentialFileInBothForms() throws {
        let json = try Credential.mesosFile(at: try self.file(#"{"principal": "agent-1", "secret": "pw"}"#))
        #expect(json.principal == "agent-1" && json.secret == "pw")
        let text = try Credential.mesosFile(at: try self.file("agent-1 pw\n"))
        #expect(text == json)
        #expect(json.description == "agent-1:<redacted>")
        #expect(json.basicAuthorization == "Basic " + Data("agent-1:pw".utf8).base64EncodedString())
    }

    @Test func marathonCredentialListAllowsColonsInPasswords() throws {
        let store = try CredentialStore.marathonList("admin:pa:ss,viewer:v")
        #expect(store.verify(principal: "admin", secret: "pa:ss"))
        #expect(store.verify(principal: "viewer", secret: "v"))
        let error = #expect(throws: SecurityError.self) { try CredentialStore.marathonList("admin") }
        #expect(error?.message.contains("--http_credentials takes user:password") == true)
        #expect(throws: SecurityError.self) { try CredentialStore.marathonList("admin:") }
    }

    @Test func secretFileKeepsTheFirstLine() throws {
        #expect(try Credential.secretFile(at: try self.file("s3cret\n")) == "s3cret")
        #expect(throws: SecurityError.self) { try Credential.secretFile(at: try self.file("\n")) }
    }
}

@Suite struct HTTPAuthenticatorTests {
    private let store = try! CredentialStore([
        Credential(principal: "ops", secret: "pw"), Credential(principal: "fw", secret: "token-1"),
    ])

    private func basic(_ text: String) -> String { "Basic " + Data(text.utf8).base64EncodedString() }

    @Test func requiredAuthenticationRefusesAnonymousAndWrongSecrets() throws {
        let authenticator = HTTPAuthenticator(store: self.store, required: true)
        #expect(throws: AuthenticationFailure.missing) { try authenticator.authenticate(authorization: nil) }
        #expect(throws: AuthenticationFailure.rejected) {
            try authenticator.authenticate(authorization: self.basic("ops:wrong"))
        }
        #expect(throws: AuthenticationFailure.rejected) {
            try authenticator.authenticate(authorization: "Bearer nope")
        }
        #expect(try authenticator.authenticate(authorization: self.basic("ops:pw")) == .principal("ops"))
        #expect(try authenticator.authenticate(authorization: "Bearer token-1") == .principal("fw"))
        #expect(try authenticator.authenticate(authorization: "bearer token-1") == .principal("fw"))
        // marathon-python's auth_token= sends DC/OS's form.
        #expect(try authenticator.authenticate(authorization: "token=token-1") == .principal("fw"))
        #expect(throws: AuthenticationFailure.rejected) { try authenticator.authenticate(authorization: "token=x") }
    }

    @Test func optionalAuthenticationStillChecksWhatIsPresented() throws {
        let authenticator = HTTPAuthenticator(store: self.store, required: false)
        #expect(try authenticator.authenticate(authorization: nil) == .anonymous)
        #expect(throws: AuthenticationFailure.rejected) {
            try authenticator.authenticate(authorization: self.basic("ops:wrong"))
        }
    }

    @Test(arguments: [
        "Basic", "Basic !!!", "Digest abc", "Bearer ", "Basic " + Data("nocolon".utf8).base64EncodedString(),
    ])
    func malformedHeadersAreRefusedNotIgnored(header: String) throws {
        let authenticator = HTTPAuthenticator(store: self.store, required: false)
        #expect(throws: AuthenticationFailure.self) { try authenticator.authenticate(authorization: header) }
    }

    @Test func aDaemonWithoutCredentialsTreatsEveryoneAsAnonymous() throws {
        #expect(try HTTPAuthenticator.open.authenticate(authorization: nil) == .anonymous)
        #expect(try HTTPAuthenticator.open.authenticate(authorization: self.basic("ops:pw")) == .anonymous)
    }
}

@Suite struct ListenerExposureTests {
    @Test(arguments: ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
    func loopbackNeedsNoCredentials(host: String) throws {
        #expect(ListenerExposure.isLoopback(host))
        try ListenerExposure.check(
            daemon: "master",
            host: host,
            authenticated: false,
            insecureOptOut: false,
            credentialsFlag: "--credentials FILE"
        )
    }

    @Test(arguments: ["0.0.0.0", "::", "10.0.0.5", "master.example.com", "127.0.0.1.example.com"])
    func aReachableAddressWithoutCredentialsRefusesToStart(host: String) throws {
        #expect(!ListenerExposure.isLoopback(host))
        let error = #expect(throws: SecurityError.self) {
            try ListenerExposure.check(
                daemon: "master",
                host: host,
                authenticated: false,
                insecureOptOut: false,
                credentialsFlag: "--credentials FILE"
            )
        }
        #expect(error?.message.contains("--credentials FILE") == true)
        #expect(error?.message.contains("--insecure_allow_unauthenticated") == true)
        try ListenerExposure.check(
            daemon: "master",
            host: host,
            authenticated: true,
            insecureOptOut: false,
            credentialsFlag: "--credentials FILE"
        )
        try ListenerExposure.check(
            daemon: "master",
            host: host,
            authenticated: false,
            insecureOptOut: true,
            credentialsFlag: "--credentials FILE"
        )
    }
}
