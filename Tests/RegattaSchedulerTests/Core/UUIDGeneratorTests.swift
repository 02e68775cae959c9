// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaScheduler
import RegattaTestKit
import Testing

@Suite struct UUIDGeneratorTests {
    @Test func makesVersion4UUIDsThatReplayFromTheirSeed() {
        var first = UUIDGenerator(SeededGenerator(seed: 9))
        var second = UUIDGenerator(SeededGenerator(seed: 9))
        for _ in 0..<100 {
            let uuid = first.next()
            #expect(uuid == second.next())
            #expect(UUID(uuidString: uuid)?.uuidString.lowercased() == uuid)
            let characters = Array(uuid)
            #expect(characters[14] == "4")
            #expect("89ab".contains(characters[19]))
        }
    }
}
