// SPDX-License-Identifier: Apache-2.0
import Foundation

/// A partial app definition, as `PATCH /v2/apps/{id}`, a partial `PUT` and the bulk `PUT /v2/apps` send it: every
/// field is absent (keep the stored value), `null` (back to Marathon's default) or a value.
///
/// Decode it once from the request body, then ``applied(to:id:)`` gives the app to validate: the patch laid over
/// the stored app, or over Marathon's defaults when there is none (so applied to `nil` it is the app that
/// `AppDefinition`'s decoder makes of the same body).
///
/// - Important: Fields are decoded in the order `AppDefinition`'s decoder reads them, so the first type error named
///   is the same; `ports` is read only when `portDefinitions` is absent or `null`, and `uris` only when `fetch` is.
public struct AppPatch: Decodable, Sendable {
    /// One field of the patch.
    public enum Field<Value: Sendable>: Sendable {
        /// Not in the body: the stored value stays.
        case absent
        /// `null` in the body: the field goes back to Marathon's default.
        case null
        /// A value in the body.
        case value(Value)

        /// The value sent, if any.
        public var value: Value? {
            if case .value(let value) = self { return value }
            return nil
        }

        /// Whether the body names the field (with a value or `null`).
        public var isPresent: Bool {
            if case .absent = self { return false }
            return true
        }

        /// The field laid over `current`: the value sent, `defaultValue` for `null`, `current` when absent.
        func resolve(_ current: Value, default defaultValue: Value) -> Value {
            switch self {
            case .absent: current
            case .null: defaultValue
            case .value(let value): value
            }
        }

        /// The field laid over an optional `current`: `null` clears it.
        func resolve(_ current: Value?) -> Value? {
            switch self {
            case .absent: current
            case .null: nil
            case .value(let value): value
            }
        }
    }

    /// Set in a `JSONDecoder`'s `userInfo` to `true` to ignore an `id` that is not a string, as an update of one app
    /// does (the path names the app; the body's id is only compared with it).
    public static let ignoresInvalidID = CodingUserInfoKey(rawValue: "AppPatch.ignoresInvalidID")!

    /// The `id` sent, if it is a string.
    public var id: String?
    public var cmd: Field<String> = .absent
    public var args: Field<[String]> = .absent
    public var user: Field<String> = .absent
    public var cpus: Field<Double> = .absent
    public var mem: Field<Double> = .absent
    public var disk: Field<Double> = .absent
    public var gpus: Field<Double> = .absent
    public var instances: Field<Int> = .absent
    public var env: Field<[String: String]> = .absent
    public var labels: Field<[String: String]> = .absent
    public var constraints: Field<[[String]]> = .absent
    public var container: Field<AppContainer> = .absent
    public var networks: Field<[AppNetwork]> = .absent
    public var portDefinitions: Field<[PortDefinition]> = .absent
    /// The legacy form of `portDefinitions`: sending it (even `null`) replaces them when `portDefinitions` is not
    /// sent.
    public var ports: Field<[Int]> = .absent
    public var requirePorts: Field<Bool> = .absent
    public var healthChecks: Field<[AppHealthCheck]> = .absent
    public var upgradeStrategy: Field<UpgradeStrategy> = .absent
    public var backoffSeconds: Field<Double> = .absent
    public var backoffFactor: Field<Double> = .absent
    public var maxLaunchDelaySeconds: Field<Double> = .absent
    public var killSelection: Field<String> = .absent
    public var unreachableStrategy: Field<UnreachableStrategy> = .absent
    public var taskKillGracePeriodSeconds: Field<Double> = .absent
    public var fetch: Field<[FetchURI]> = .absent
    /// The legacy form of `fetch`: sending it (even `null`) replaces them when `fetch` is not sent.
    public var uris: Field<[String]> = .absent
    public var acceptedResourceRoles: Field<[String]> = .absent
    public var role: Field<String> = .absent
    /// A version to roll back to (`PUT`/`PATCH` of one app); otherwise copied into the result as sent.
    public var version: Field<String> = .absent
    public var versionInfo: Field<VersionInfo> = .absent

    /// An empty patch: applied, it keeps the stored app.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case id, cmd, args, user, cpus, mem, disk, gpus, instances, env, labels, constraints, portDefinitions, ports
        case requirePorts, container, healthChecks, upgradeStrategy, backoffSeconds, backoffFactor
        case maxLaunchDelaySeconds, killSelection, unreachableStrategy, taskKillGracePeriodSeconds, fetch, uris
        case acceptedResourceRoles, role, version, versionInfo, networks
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func field<Value: Decodable>(_ key: CodingKeys) throws -> Field<Value> {
            guard c.contains(key) else { return .absent }
            if try c.decodeNil(forKey: key) { return .null }
            return .value(try c.decode(Value.self, forKey: key))
        }
        if decoder.userInfo[Self.ignoresInvalidID] as? Bool == true {
            self.id = (try? c.decodeIfPresent(String.self, forKey: .id)) ?? nil
        } else {
            self.id = try c.decodeIfPresent(String.self, forKey: .id)
        }
        self.cmd = try field(.cmd)
        self.args = try field(.args)
        self.user = try field(.user)
        self.cpus = try field(.cpus)
        self.mem = try field(.mem)
        self.disk = try field(.disk)
        self.gpus = try field(.gpus)
        self.instances = try field(.instances)
        self.env = try field(.env)
        self.labels = try field(.labels)
        self.constraints = try field(.constraints)
        self.container = try field(.container)
        self.networks = try field(.networks)
        self.portDefinitions = try field(.portDefinitions)
        if self.portDefinitions.value == nil { self.ports = try field(.ports) }
        self.requirePorts = try field(.requirePorts)
        self.healthChecks = try field(.healthChecks)
        self.upgradeStrategy = try field(.upgradeStrategy)
        self.backoffSeconds = try field(.backoffSeconds)
        self.backoffFactor = try field(.backoffFactor)
        self.maxLaunchDelaySeconds = try field(.maxLaunchDelaySeconds)
        self.killSelection = try field(.killSelection)
        self.unreachableStrategy = try field(.unreachableStrategy)
        self.taskKillGracePeriodSeconds = try field(.taskKillGracePeriodSeconds)
        self.fetch = try field(.fetch)
        if self.fetch.value == nil { self.uris = try field(.uris) }
        self.acceptedResourceRoles = try field(.acceptedResourceRoles)
        self.role = try field(.role)
        self.version = try field(.version)
        self.versionInfo = try field(.versionInfo)
    }

    /// The app this patch makes of `base` (the stored app), or of Marathon's defaults when `base` is `nil`; named
    /// `id`.
    ///
    /// The stored `version` and `versionInfo` are dropped (the scheduler sets them when it stores the result).
    /// `ports` without `portDefinitions` replaces the port definitions, `uris` without `fetch` the fetch list, and
    /// `networks` picks the Docker network when the resulting container names none.
    public func applied(to base: AppDefinition?, id: String) -> AppDefinition {
        let defaults = AppDefinition(id: id)
        let current = base ?? defaults
        var app = defaults
        app.cmd = self.cmd.resolve(current.cmd)
        app.args = self.args.resolve(current.args)
        app.user = self.user.resolve(current.user)
        app.cpus = self.cpus.resolve(current.cpus, default: defaults.cpus)
        app.mem = self.mem.resolve(current.mem, default: defaults.mem)
        app.disk = self.disk.resolve(current.disk, default: defaults.disk)
        app.gpus = self.gpus.resolve(current.gpus, default: defaults.gpus)
        app.instances = self.instances.resolve(current.instances, default: defaults.instances)
        app.env = self.env.resolve(current.env, default: defaults.env)
        app.labels = self.labels.resolve(current.labels, default: defaults.labels)
        app.constraints = self.constraints.resolve(current.constraints, default: defaults.constraints)
        app.container = self.container.resolve(current.container)
        app.networks = self.networks.resolve(current.networks)
        // `networks` (Marathon ≥ 1.5) sets the Docker network when `docker.network` is absent.
        if let mode = app.networks?.first?.mode, app.container?.docker != nil, app.container?.docker?.network == nil {
            switch mode {
            case "container/bridge": app.container?.docker?.network = "BRIDGE"
            case "container": app.container?.docker?.network = "USER"
            default: app.container?.docker?.network = "HOST"
            }
        }
        if let definitions = self.portDefinitions.value {
            app.portDefinitions = definitions
        } else if let base, !self.portDefinitions.isPresent, !self.ports.isPresent {
            app.portDefinitions = base.portDefinitions
        } else if let ports = self.ports.value {
            app.portDefinitions = ports.map { PortDefinition(port: $0) }
        } else if app.container?.docker?.network == "BRIDGE" || app.container?.docker?.network == "USER" {
            app.portDefinitions = []
        } else {
            app.portDefinitions = defaults.portDefinitions
        }
        app.requirePorts = self.requirePorts.resolve(current.requirePorts, default: defaults.requirePorts)
        app.healthChecks = self.healthChecks.resolve(current.healthChecks, default: defaults.healthChecks)
        app.upgradeStrategy = self.upgradeStrategy.resolve(current.upgradeStrategy, default: defaults.upgradeStrategy)
        app.backoffSeconds = self.backoffSeconds.resolve(current.backoffSeconds, default: defaults.backoffSeconds)
        app.backoffFactor = self.backoffFactor.resolve(current.backoffFactor, default: defaults.backoffFactor)
        app.maxLaunchDelaySeconds = self.maxLaunchDelaySeconds.resolve(
            current.maxLaunchDelaySeconds,
            default: defaults.maxLaunchDelaySeconds
        )
        app.killSelection = self.killSelection.resolve(current.killSelection, default: defaults.killSelection)
        app.unreachableStrategy = self.unreachableStrategy.resolve(
            current.unreachableStrategy,
            default: defaults.unreachableStrategy
        )
        app.taskKillGracePeriodSeconds = self.taskKillGracePeriodSeconds.resolve(current.taskKillGracePeriodSeconds)
        if let fetch = self.fetch.value {
            app.fetch = fetch
        } else if let base, !self.fetch.isPresent, !self.uris.isPresent {
            app.fetch = base.fetch
        } else {
            app.fetch = (self.uris.value ?? []).map { FetchURI(uri: $0) }
        }
        app.acceptedResourceRoles = self.acceptedResourceRoles.resolve(current.acceptedResourceRoles)
        app.role = self.role.resolve(current.role)
        app.version = self.version.value
        app.versionInfo = self.versionInfo.value
        return app
    }
}
