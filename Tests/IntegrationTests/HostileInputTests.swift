// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// Hostile input against `regatta dev` (issue 13's evidence): the OpenAPI document of the Marathon API is valid,
/// schemathesis finds no server error and no stored change after a rejected request, and the hostile-input corpus
/// gets its expected answers from all three daemons, which keep answering with their state unchanged.
///
/// The Python scripts (Tests/IntegrationTests/Python) start their own `regatta dev` on free loopback ports with the
/// binary passed to them; the venv comes from scripts/python-hostile.sh.
@Suite(.serialized) struct HostileInputTests {
    /// The venv's python with schemathesis and openapi-spec-validator installed.
    static func python() throws -> String {
        let setup = try run("/bin/bash", [Package.root.appendingPathComponent("scripts/python-hostile.sh").path])
        try #require(setup.status == 0, "installing schemathesis failed: \(setup.output)")
        return setup.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func script(_ name: String) -> String {
        Package.root.appendingPathComponent("Tests/IntegrationTests/Python/\(name)").path
    }

    @Test func openAPIDocumentIsValid() throws {
        // Given the OpenAPI document of the Marathon API
        let python = try Self.python()
        let document = Package.root.appendingPathComponent("docs/openapi/marathon-v2.yaml").path
        // When openapi-spec-validator checks it
        let result = try run(python, [Self.script("openapi_check.py"), document])
        // Then it is a valid OpenAPI 3.0 document
        #expect(result.status == 0, "openapi_check.py:\n\(result.output)")
    }

    @Test func schemathesisFindsNoServerErrorAndRejectedRequestsChangeNothing() throws {
        // Given schemathesis and the regatta binary
        let python = try Self.python()
        try #require(FileManager.default.isExecutableFile(atPath: Package.regatta), "build regatta first")
        // When it sends generated requests for every operation of the document to a live dev cluster
        let result = try run(python, [Self.script("schemathesis_run.py"), Package.regatta])
        // Then no answer was a 5xx, every answer matched the document, and no rejected request changed an app
        #expect(result.status == 0, "schemathesis_run.py:\n\(result.output)")
        #expect(result.output.contains("ALL OK"))
    }

    @Test func hostileInputCorpusGetsExpectedAnswers() throws {
        // Given the hostile-input corpus and the regatta binary
        let python = try Self.python()
        try #require(FileManager.default.isExecutableFile(atPath: Package.regatta), "build regatta first")
        // When every case is sent, raw, to its daemon of one dev cluster
        let result = try run(python, [Self.script("hostile_inputs.py"), Package.regatta])
        // Then each got its expected answer, and after each every daemon answered and the state was unchanged
        #expect(result.status == 0, "hostile_inputs.py:\n\(result.output)")
        #expect(result.output.contains("ALL OK"))
    }
}
