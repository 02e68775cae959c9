// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Who must authenticate to the master: Mesos's `--credentials` and `--authenticate_*` flags.
///
/// Each `authenticate_*` setting defaults to `true` when credentials are given and to `false` without them (a
/// setting that is `true` without credentials is refused when the master starts). Presented credentials are always
/// checked when the master has credentials, even where they are not required.
public struct MasterAuthentication: Sendable {
    /// The principals the master accepts (`--credentials FILE`); `nil`: nobody can authenticate.
    public var credentials: CredentialStore?
    /// The file the credentials came from, shown in `/master/flags` instead of the secrets.
    public var credentialsPath: String?
    /// Frameworks must authenticate on `/api/v1/scheduler` (`--authenticate_frameworks`).
    public var frameworks = false
    /// Agents must authenticate on `/api/v1/agent` (`--authenticate_agents`).
    public var agents = false
    /// Callers of the endpoints that change state must authenticate (`--authenticate_http_readwrite`).
    public var httpReadWrite = false
    /// Callers of the endpoints that only read must authenticate (`--authenticate_http_readonly`).
    public var httpReadOnly = false

    /// No credentials; every caller is anonymous.
    public init() {}

    /// Credentials with every `authenticate_*` setting on, as the flags default to.
    public init(credentials: CredentialStore, path: String? = nil) {
        self.credentials = credentials
        self.credentialsPath = path
        self.frameworks = true
        self.agents = true
        self.httpReadWrite = true
        self.httpReadOnly = true
    }

    /// Whether the master has credentials, so identities can be proved and are bound (a framework id to the
    /// principal that registered it, an agent id to the principal that first registered it).
    public var bindsIdentities: Bool { self.credentials != nil }

    /// Whether every caller of the listener must authenticate: what the safe-by-default start check asks. A master
    /// that lets frameworks or read-write callers in anonymously can be driven to run commands by anyone.
    public var protectsListener: Bool {
        self.credentials != nil && self.frameworks && self.agents && self.httpReadWrite
    }

    /// The authenticator for one kind of endpoint.
    public func authenticator(for endpoint: MasterEndpoint) -> HTTPAuthenticator {
        let required: Bool =
            switch endpoint {
            case .open: false
            case .readOnly: self.httpReadOnly
            case .readWrite: self.httpReadWrite
            case .framework: self.frameworks
            case .agent: self.agents
            case .operatorAPI: false
            }
        return HTTPAuthenticator(store: self.credentials, required: required && self.credentials != nil)
    }
}

/// The kinds of master endpoint, each governed by its own `--authenticate_*` flag.
public enum MasterEndpoint: Sendable, Hashable {
    /// Never authenticated: `/health`, `/master/health`, `/redirect`, `/master/redirect`.
    case open
    /// Reads state (`/master/state`, `/metrics`, `/master/flags`, …): `--authenticate_http_readonly`.
    case readOnly
    /// Changes state (`/master/teardown`): `--authenticate_http_readwrite`.
    case readWrite
    /// The scheduler API (`/api/v1/scheduler`): `--authenticate_frameworks`.
    case framework
    /// The agent protocol (`/api/v1/agent`): `--authenticate_agents`.
    case agent
    /// The operator API (`/api/v1`): read-only for `GET_*` calls, read-write for the others; decided once the call
    /// is read (credentials presented are checked before).
    case operatorAPI

    /// The kind of `path` requested with `method` (`GET`, `POST`, …).
    public static func classify(method: String, path: String) -> MasterEndpoint {
        switch path {
        case "/health", "/master/health", "/redirect", "/master/redirect", "/version", "/master/version":
            return .open
        case "/api/v1/scheduler", "/master/api/v1/scheduler":
            return .framework
        case "/api/v1/agent":
            return .agent
        case "/api/v1", "/master/api/v1":
            return .operatorAPI
        case "/master/teardown", "/teardown":
            return .readWrite
        default:
            // Anything else the master serves reads; an unknown POST is treated as a write.
            return method == "GET" || method == "HEAD" ? .readOnly : .readWrite
        }
    }
}
