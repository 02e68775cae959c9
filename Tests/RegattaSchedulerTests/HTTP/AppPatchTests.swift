// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@testable import RegattaScheduler

/// `AppPatch` against what the routes did before it: render the stored app as a JSON object, drop `version`,
/// `versionInfo`, `ports` and `uris`, lay the body's keys over it (`ports` and `uris` taking the place of
/// `portDefinitions` and `fetch` unless those are sent too) and decode the result.
@Suite struct AppPatchTests {
    /// A stored app with something in every field a patch can touch.
    static func stored() -> AppDefinition {
        let body = """
            {"id":"/web","cmd":"sleep 1000","args":null,"user":"nobody","cpus":0.5,"mem":64,"disk":10,"gpus":0,
             "instances":3,"env":{"A":"1"},"labels":{"team":"x"},"constraints":[["hostname","UNIQUE"]],
             "container":{"type":"DOCKER","docker":{"image":"nginx"}},"networks":[{"mode":"container/bridge"}],
             "portDefinitions":[{"port":8080,"name":"http"}],"requirePorts":true,
             "healthChecks":[{"protocol":"TCP"}],"upgradeStrategy":{"minimumHealthCapacity":0.5},
             "backoffSeconds":2,"backoffFactor":2,"maxLaunchDelaySeconds":60,"killSelection":"OLDEST_FIRST",
             "unreachableStrategy":"disabled","taskKillGracePeriodSeconds":5,"fetch":[{"uri":"http://a/b.tgz"}],
             "acceptedResourceRoles":["*"],"role":"web","version":"2027-01-15T08:00:00.000Z",
             "versionInfo":{"lastScalingAt":"2027-01-15T08:00:00.000Z","lastConfigChangeAt":"2027-01-15T08:00:00.000Z"}}
            """
        return try! JSONDecoder().decode(AppDefinition.self, from: Data(body.utf8))
    }

    /// The app the routes made of `body` over `base` before `AppPatch` (the oracle).
    static func merged(_ body: String, over base: AppDefinition?, id: String) throws -> AppDefinition {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        object["id"] = id
        guard let base else {
            return try JSONDecoder().decode(AppDefinition.self, from: MarathonJSON.data(object))
        }
        var merged = MarathonJSON.object(base)
        for key in ["version", "versionInfo", "ports", "uris"] { merged[key] = nil }
        for (key, value) in object { merged[key] = value }
        if object["ports"] != nil && object["portDefinitions"] == nil { merged["portDefinitions"] = nil }
        if object["uris"] != nil && object["fetch"] == nil { merged["fetch"] = nil }
        if object["ports"] != nil { merged["ports"] = object["ports"] }
        if object["uris"] != nil { merged["uris"] = object["uris"] }
        return try JSONDecoder().decode(AppDefinition.self, from: MarathonJSON.data(merged))
    }

    static func patch(_ body: String) throws -> AppPatch {
        try JSONDecoder().decode(AppPatch.self, from: Data(body.utf8))
    }

    static let bodies = [
        "{}",
        #"{"cmd":"sleep 2000"}"#,
        #"{"cpus":0.25,"labels":{"b":"2"},"instances":0}"#,
        #"{"cmd":null,"cpus":null,"env":null,"user":null,"healthChecks":null,"unreachableStrategy":null}"#,
        #"{"ports":[9000,9001]}"#,
        #"{"ports":null}"#,
        #"{"portDefinitions":null}"#,
        #"{"portDefinitions":[{"port":1}],"ports":[2]}"#,
        #"{"portDefinitions":null,"ports":[3]}"#,
        #"{"uris":["http://c/d"]}"#,
        #"{"uris":null}"#,
        #"{"fetch":null}"#,
        #"{"fetch":[{"uri":"http://e"}],"uris":["http://f"]}"#,
        #"{"container":{"docker":{"image":"redis"}}}"#,
        #"{"container":{"docker":{"image":"redis"}},"networks":[{"mode":"container"}],"portDefinitions":null}"#,
        #"{"container":null,"networks":null}"#,
        #"{"networks":[{"mode":"host"}]}"#,
        #"{"version":"2027-01-16T00:00:00.000Z","versionInfo":null}"#,
        #"{"upgradeStrategy":{"maximumOverCapacity":0},"killSelection":"YOUNGEST_FIRST","role":null}"#,
        #"{"unknownField":1,"acceptedResourceRoles":null,"taskKillGracePeriodSeconds":null,"args":["a"]}"#,
    ]

    @Test(arguments: bodies)
    func patchOverAStoredAppIsWhatTheMergeGave(body: String) throws {
        // Given the stored app and a patch
        let base = Self.stored()
        // When the patch is applied
        let patched = try Self.patch(body).applied(to: base, id: "/web")
        // Then it is the app the JSON merge made
        #expect(patched == (try Self.merged(body, over: base, id: "/web")))
    }

    @Test(arguments: bodies)
    func patchOverNothingIsTheAppTheBodyDecodesTo(body: String) throws {
        // Given no stored app
        // When the patch is applied to nothing
        let app = try Self.patch(body).applied(to: nil, id: "/new")
        // Then it is the app the body decodes to, with the id given
        #expect(app == (try Self.merged(body, over: nil, id: "/new")))
    }

    @Test func portsAndUrisAreNotReadWhenTheirNewFormsAreSent() throws {
        // Given a body whose legacy fields have the wrong type but are shadowed
        let body = #"{"portDefinitions":[{"port":1}],"ports":"x","fetch":[],"uris":7}"#
        // When it is decoded
        let patch = try Self.patch(body)
        // Then the legacy fields are not read, as AppDefinition's decoder does not read them
        #expect(patch.ports.isPresent == false)
        #expect(patch.uris.isPresent == false)
        #expect(patch.applied(to: nil, id: "/a").portDefinitions == [PortDefinition(port: 1)])
    }

    @Test func theFirstTypeErrorIsTheOneAppDefinitionNames() throws {
        // Given a body with two type errors
        let body = Data(#"{"mem":"x","cpus":"y"}"#.utf8)
        // When it is decoded both ways
        let patchError = #expect(throws: DecodingError.self) { try JSONDecoder().decode(AppPatch.self, from: body) }
        let appError = #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(AppDefinition.self, from: body)
        }
        // Then both name the same field first
        let patchPath = try #require(patchError.map(MarathonRoutes.describe)?.0)
        #expect(patchPath == "/cpus")
        #expect(patchPath == appError.map(MarathonRoutes.describe)?.0)
    }

    @Test func anIDThatIsNoStringIsIgnoredOnlyWhenAsked() throws {
        // Given a body whose id is a number
        let body = Data(#"{"id":5,"cmd":"x"}"#.utf8)
        // When it is decoded for an update of one app
        let decoder = JSONDecoder()
        decoder.userInfo[AppPatch.ignoresInvalidID] = true
        let patch = try decoder.decode(AppPatch.self, from: body)
        // Then the id is ignored; decoded for a list, it is a type error
        #expect(patch.id == nil)
        #expect(patch.cmd.value == "x")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AppPatch.self, from: body) }
    }
}
