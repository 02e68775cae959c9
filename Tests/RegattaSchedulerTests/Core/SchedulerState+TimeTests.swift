// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaScheduler
import RegattaTestKit
import Testing

@Suite struct SchedulerStateTimeTests {
    @Test func versionsAreWrittenAsISO8601DateFormatterWritesThem() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var m = MachineDriver()
        m.subscribe()
        for seconds in [0.0, 951_782_400.5, 1_709_164_800.25, 1_800_000_000.123, 4_102_444_799.999] {
            m.now.date = Date(timeIntervalSince1970: seconds)
            m.command(.createApp(Fixture.app(id: "/t\(Int(seconds))")))
            m.settle()
            let version = m.state.apps["/t\(Int(seconds))"]?.version
            #expect(version == formatter.string(from: Date(timeIntervalSince1970: seconds)), "\(seconds)")
        }
    }

    @Test func versionsStrictlyIncreaseEvenWhenTheClockStandsStillOrStepsBack() {
        var m = MachineDriver()
        m.subscribe()
        var versions: [String] = []
        for (index, step) in [0.0, 0, 0, -10].enumerated() {
            m.now.date += step
            versions.append(m.createApp(Fixture.app(id: "/v\(index)")).version!)
        }
        #expect(versions == versions.sorted())
        #expect(Set(versions).count == versions.count)
    }
}
