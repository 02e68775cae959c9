// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Testing

@Suite struct ACLsTests {
    private let enforced: Set<ACLs.Action> = [.registerFrameworks, .runTasks, .teardownFrameworks]

    @Test func firstMatchingRuleDecidesAndNoneDenies() throws {
        let acls = try ACLs.parse(
            """
            {"run_tasks": [
              {"principals": {"values": ["marathon"]}, "users": {"values": ["nobody", "app"]}},
              {"principals": {"type": "ANY"}, "users": {"type": "NONE"}},
              {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}}
            ]}
            """,
            enforced: self.enforced
        )
        #expect(acls.allows("marathon", .runTasks, on: "nobody"))
        #expect(acls.allows("marathon", .runTasks, on: "app"))
        // marathon asking for root: the first rule does not match (object); the second (ANY principals, NONE users)
        // matches and denies.
        #expect(!acls.allows("marathon", .runTasks, on: "root"))
        // ops: the second rule matches first and denies, whatever the user.
        #expect(!acls.allows("ops", .runTasks, on: "nobody"))
        // Not permissive: an action with no rules is denied.
        #expect(!acls.allows("marathon", .registerFrameworks, on: "*"))
    }

    @Test func anonymousCallersMatchOnlyAnyOrNone() throws {
        let acls = try ACLs.parse(
            """
            {"permissive": false,
             "register_frameworks": [
               {"principals": {"values": ["a"]}, "roles": {"type": "ANY"}},
               {"principals": {"type": "ANY"}, "roles": {"values": ["public"]}}
             ]}
            """,
            enforced: self.enforced
        )
        #expect(acls.allows(nil, .registerFrameworks, on: "public"))
        #expect(!acls.allows(nil, .registerFrameworks, on: "private"))
        #expect(acls.allows("a", .registerFrameworks, on: "private"))
        // An unnamed object (no user given) is allowed only by ANY.
        #expect(acls.allows("a", .registerFrameworks, on: .unnamed))
        #expect(!acls.allows("b", .registerFrameworks, on: .unnamed))
    }

    @Test func permissiveTrueAllowsWhatNoRuleMatches() throws {
        let acls = try ACLs.parse(
            #"{"permissive": true, "teardown_frameworks": [{"principals": {"values": ["x"]}, "framework_principals": {"type": "NONE"}}]}"#,
            enforced: self.enforced
        )
        #expect(!acls.allows("x", .teardownFrameworks, on: "fw"))
        #expect(acls.allows("y", .teardownFrameworks, on: "fw"))
    }

    @Test(arguments: [
        (#"{"view_flags": []}"#, "not an ACL Regatta knows"),
        (#"{"access_sandboxes": []}"#, "not enforced by this daemon"),
        (#"{"run_tasks": {}}"#, "must be an array"),
        (#"{"run_tasks": [{"principals": {"type": "ANY"}}]}"#, "needs both 'principals' and 'users'"),
        (#"{"run_tasks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]}"#, "unknown field(s) roles"),
        (#"{"run_tasks": [{"principals": {"type": "SOMETIMES"}, "users": {"type": "ANY"}}]}"#, "must be \"SOME\""),
        (#"{"run_tasks": [{"principals": {"values": []}, "users": {"type": "ANY"}}]}"#, "names nobody"),
        (
            #"{"run_tasks": [{"principals": {"type": "ANY", "values": ["a"]}, "users": {"type": "ANY"}}]}"#,
            "takes no 'values'"
        ),
        (#"{"permissive": "no"}"#, "'permissive' must be true or false"),
        ("[]", "not a JSON object"),
    ])
    func badDocumentsAreRefusedNamingTheField(text: String, reason: String) throws {
        let error = #expect(throws: SecurityError.self) { try ACLs.parse(text, enforced: self.enforced) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }
}
