// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Mesos's access control lists (`--acls`): which principal may do what to which object.
///
/// The document is Mesos's JSON:
///
/// ```json
/// {
///   "permissive": false,
///   "register_frameworks": [{"principals": {"values": ["marathon"]}, "roles": {"type": "ANY"}}],
///   "run_tasks": [{"principals": {"values": ["marathon"]}, "users": {"values": ["nobody"]}},
///                 {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}]
/// }
/// ```
///
/// Each action's rules are read in order; the first rule whose subject and object both match decides (a `NONE`
/// entity matches and denies). When no rule matches, `permissive` decides, and it defaults to **false** (Mesos
/// defaults to true: Regatta is stricter). Semantics follow Mesos's local authorizer. A daemon reads only the actions
/// it enforces; any other action in the document is refused when the daemon starts, never ignored.
public struct ACLs: Sendable, Equatable {
    /// One kind of request an ACL governs, with the name of its object entity in the JSON.
    public struct Action: Hashable, Sendable, CustomStringConvertible {
        /// The action's key in the document (`register_frameworks`).
        public let name: String
        /// The key of its object entity (`roles`, `users`, `framework_principals`, `agents`).
        public let object: String

        public var description: String { self.name }

        /// Subscribing a framework with its roles (object: each role).
        public static let registerFrameworks = Action(name: "register_frameworks", object: "roles")
        /// Launching a task as a UNIX user (object: the user).
        public static let runTasks = Action(name: "run_tasks", object: "users")
        /// Tearing down a framework (object: the framework's principal).
        public static let teardownFrameworks = Action(name: "teardown_frameworks", object: "framework_principals")
        /// Reading a task's sandbox (object: the user the task runs as).
        public static let accessSandboxes = Action(name: "access_sandboxes", object: "users")
        /// Seeing a framework in state documents (object: the framework's user).
        public static let viewFrameworks = Action(name: "view_frameworks", object: "users")
        /// Seeing a task in state documents (object: the task's user).
        public static let viewTasks = Action(name: "view_tasks", object: "users")
        /// Seeing an executor in state documents (object: the executor's user).
        public static let viewExecutors = Action(name: "view_executors", object: "users")
        /// Seeing a role and its resources (object: the role).
        public static let viewRoles = Action(name: "view_roles", object: "roles")
        /// Registering an agent (object: the agent, `ANY` or `NONE` as in Mesos).
        public static let registerAgents = Action(name: "register_agents", object: "agents")
        /// Marking an agent gone for good (object: the agent).
        public static let markAgentsGone = Action(name: "mark_agents_gone", object: "agents")
        /// Draining an agent (object: the agent).
        public static let drainAgents = Action(name: "drain_agents", object: "agents")
        /// Deactivating an agent (object: the agent).
        public static let deactivateAgents = Action(name: "deactivate_agents", object: "agents")
        /// Reactivating an agent (object: the agent).
        public static let reactivateAgents = Action(name: "reactivate_agents", object: "agents")

        /// Every action Regatta knows the shape of.
        public static let all: [Action] = [
            .registerFrameworks, .runTasks, .teardownFrameworks, .accessSandboxes, .viewFrameworks, .viewTasks,
            .viewExecutors, .viewRoles, .registerAgents, .markAgentsGone, .drainAgents, .deactivateAgents,
            .reactivateAgents,
        ]
    }

    /// A set of names in a rule: Mesos's `Entity` (`{"values": […]}`, `{"type": "ANY"}`, `{"type": "NONE"}`).
    public enum Entity: Sendable, Equatable {
        case some(Set<String>)
        case any
        case none
    }

    /// One rule: who (`principals`) may do it to what (the action's object).
    public struct Rule: Sendable, Equatable {
        public var principals: Entity
        public var objects: Entity

        public init(principals: Entity, objects: Entity) {
            self.principals = principals
            self.objects = objects
        }
    }

    /// What a request asks about: a specific name, or "any" where the request has none (an anonymous caller; a
    /// task with no user).
    public enum Subject: Sendable, Hashable {
        case named(String)
        case unnamed
    }

    /// The decision when no rule matches.
    public var permissive: Bool
    /// The rules of each action, in order.
    public var rules: [Action: [Rule]]

    public init(permissive: Bool = false, rules: [Action: [Rule]] = [:]) {
        self.permissive = permissive
        self.rules = rules
    }

    /// Whether `principal` may perform `action` on `object`.
    ///
    /// An anonymous caller (`principal == nil`) matches only rules whose principals are `ANY` or `NONE`.
    public func allows(_ principal: String?, _ action: Action, on object: Subject) -> Bool {
        let subject: Subject = principal.map { .named($0) } ?? .unnamed
        for rule in self.rules[action] ?? [] {
            if Self.matches(subject, rule.principals) && Self.matches(object, rule.objects) {
                return Self.allows(subject, rule.principals) && Self.allows(object, rule.objects)
            }
        }
        return self.permissive
    }

    /// Convenience for a named object.
    public func allows(_ principal: String?, _ action: Action, on object: String) -> Bool {
        self.allows(principal, action, on: .named(object))
    }

    // Mesos's local authorizer: a request entity "matches" a rule entity when the rule speaks about it, and the rule
    // then "allows" it or not.
    private static func matches(_ request: Subject, _ rule: Entity) -> Bool {
        switch (request, rule) {
        case (_, .any), (_, .none): true
        case (.unnamed, .some): false
        case (.named(let name), .some(let values)): values.contains(name)
        }
    }

    private static func allows(_ request: Subject, _ rule: Entity) -> Bool {
        switch (request, rule) {
        case (_, .any): true
        case (_, .none): false
        case (.unnamed, .some): false
        case (.named(let name), .some(let values)): values.contains(name)
        }
    }

    /// Reads an ACL document, accepting only the actions in `enforced`.
    ///
    /// - Parameters:
    ///   - path: the `--acls` file.
    ///   - enforced: the actions this daemon enforces; others are refused with a message naming them.
    /// - Throws: ``SecurityError`` naming the file, the field and the fix.
    public static func file(at path: String, enforced: Set<Action>) throws -> ACLs {
        let text = try SecurityFiles.read(path, what: "ACL")
        return try Self.parse(text, source: "ACL file '\(path)'", enforced: enforced)
    }

    /// Reads an ACL document from `text` (`source` names it in errors).
    public static func parse(_ text: String, source: String = "--acls", enforced: Set<Action>) throws -> ACLs {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw SecurityError(.invalidACLs, "\(source) is not a JSON object of Mesos ACLs.")
        }
        var acls = ACLs()
        let known = Dictionary(uniqueKeysWithValues: Action.all.map { ($0.name, $0) })
        for key in object.keys.sorted() {
            let value = object[key]!
            if key == "permissive" {
                guard let flag = value as? Bool else {
                    throw SecurityError(.invalidACLs, "\(source): 'permissive' must be true or false.")
                }
                acls.permissive = flag
                continue
            }
            guard let action = known[key] else {
                throw SecurityError(
                    .invalidACLs,
                    "\(source): '\(key)' is not an ACL Regatta knows; the ones it reads are "
                        + enforced.map(\.name).sorted().joined(separator: ", ") + "."
                )
            }
            guard enforced.contains(action) else {
                throw SecurityError(
                    .invalidACLs,
                    "\(source): '\(key)' is not enforced by this daemon, so it would have no effect; remove it "
                        + "(this daemon enforces " + enforced.map(\.name).sorted().joined(separator: ", ") + ")."
                )
            }
            guard let list = value as? [Any] else {
                throw SecurityError(.invalidACLs, "\(source): '\(key)' must be an array of rules.")
            }
            acls.rules[action] = try list.enumerated().map { index, entry in
                try Self.rule(entry, action: action, at: "\(source): \(key)[\(index)]")
            }
        }
        return acls
    }

    private static func rule(_ entry: Any, action: Action, at location: String) throws -> Rule {
        guard let fields = entry as? [String: Any] else {
            throw SecurityError(.invalidACLs, "\(location) must be an object with 'principals' and '\(action.object)'.")
        }
        let unknown = Set(fields.keys).subtracting(["principals", action.object])
        guard unknown.isEmpty else {
            throw SecurityError(
                .invalidACLs,
                "\(location) has unknown field(s) \(unknown.sorted().joined(separator: ", ")); a \(action.name) "
                    + "rule has 'principals' and '\(action.object)'."
            )
        }
        guard let principals = fields["principals"], let objects = fields[action.object] else {
            throw SecurityError(.invalidACLs, "\(location) needs both 'principals' and '\(action.object)'.")
        }
        return Rule(
            principals: try Self.entity(principals, at: "\(location).principals"),
            objects: try Self.entity(objects, at: "\(location).\(action.object)")
        )
    }

    private static func entity(_ value: Any, at location: String) throws -> Entity {
        guard let fields = value as? [String: Any] else {
            throw SecurityError(
                .invalidACLs,
                "\(location) must be {\"values\": [...]} or {\"type\": \"ANY\"|\"NONE\"}."
            )
        }
        let unknown = Set(fields.keys).subtracting(["type", "values"])
        guard unknown.isEmpty else {
            throw SecurityError(
                .invalidACLs,
                "\(location) has unknown field(s) \(unknown.sorted().joined(separator: ", ")); use 'type' or 'values'."
            )
        }
        let type = fields["type"].map { $0 as? String }
        let values = fields["values"].map { $0 as? [String] }
        if case .some(.none) = type {
            throw SecurityError(.invalidACLs, "\(location).type must be \"SOME\", \"ANY\" or \"NONE\".")
        }
        if case .some(.none) = values {
            throw SecurityError(.invalidACLs, "\(location).values must be an array of strings.")
        }
        switch type ?? "SOME" {
        case "ANY", "NONE":
            guard values == nil || values??.isEmpty == true else {
                throw SecurityError(.invalidACLs, "\(location): type \(type!!) takes no 'values'.")
            }
            return type == "ANY" ? .any : .none
        case "SOME":
            guard let names = values ?? nil, !names.isEmpty else {
                throw SecurityError(
                    .invalidACLs,
                    "\(location) names nobody; give 'values' or type \"ANY\" / \"NONE\"."
                )
            }
            return .some(Set(names))
        default:
            throw SecurityError(.invalidACLs, "\(location).type must be \"SOME\", \"ANY\" or \"NONE\".")
        }
    }
}
