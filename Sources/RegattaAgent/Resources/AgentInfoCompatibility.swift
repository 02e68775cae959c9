// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Whether an agent may restart with new settings under the id (and the tasks) of its earlier run.
///
/// Mesos refuses to recover an agent whose info changed incompatibly (its `--reconfiguration_policy=additive`):
/// a restarted agent may only *grow*. Here that means:
/// - the hostname is unchanged;
/// - every resource it had is still there, at least as large (a scalar not smaller, ranges and sets still
///   containing the old ones); new resources may be added;
/// - every attribute it had is still there with the same value; new attributes may be added.
///
/// The HTTP port may change. Anything else would let the master's view of running tasks exceed what the agent now
/// offers, or break the placement constraints tasks were placed by.
enum AgentInfoCompatibility {
    /// The reasons `current` cannot replace `saved`; empty when it can.
    static func problems(saved: AgentInfo, current: AgentInfo) -> [String] {
        var problems: [String] = []
        if saved.hostname != current.hostname {
            problems.append("the hostname changed from '\(saved.hostname)' to '\(current.hostname)'")
        }
        let names = Set(saved.resources.list.map(\.name)).sorted()
        for name in names {
            let before = Self.resources(named: name, in: saved.resources)
            let after = Self.resources(named: name, in: current.resources)
            if !after.contains(before) {
                let now = after.isEmpty ? "nothing" : "'\(after)'"
                problems.append("resource '\(name)' shrank from '\(before)' to \(now)")
            }
        }
        let currentAttributes = current.attributes ?? []
        for attribute in saved.attributes ?? [] {
            guard let match = currentAttributes.first(where: { $0.name == attribute.name }) else {
                problems.append("attribute '\(attribute.name)' was removed")
                continue
            }
            if match.value != attribute.value {
                problems.append(
                    "attribute '\(attribute.name)' changed from '\(attribute.stringValue)' to '\(match.stringValue)'"
                )
            }
        }
        return problems
    }

    private static func resources(named name: String, in resources: Resources) -> Resources {
        (try? Resources(resources.list.filter { $0.name == name })) ?? Resources()
    }
}
