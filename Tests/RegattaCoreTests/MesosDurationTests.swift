// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Testing

@Suite struct MesosDurationTests {
    @Test(arguments: [
        ("15secs", Duration.seconds(15)),
        ("500ms", .milliseconds(500)),
        ("2mins", .seconds(120)),
        ("1.5secs", .milliseconds(1500)),
        ("10", .seconds(10)),
        ("0.25", .milliseconds(250)),
        ("1hrs", .seconds(3600)),
        ("3days", .seconds(3 * 86400)),
        ("1weeks", .seconds(604_800)),
        ("100us", .microseconds(100)),
        ("5ns", .nanoseconds(5)),
        ("0secs", .zero),
        (" 15secs ", .seconds(15)),
    ])
    func parsesMesosForms(text: String, expected: Duration) throws {
        #expect(try MesosDuration.parse(text) == expected)
    }

    @Test(arguments: ["abc", "-1secs", "-1", "secs", "", "15 parsecs", "1.5.5secs", "nansecs", "infsecs", "10m"])
    func rejectsBadForms(text: String) {
        let error = #expect(throws: CoreError.self) { try MesosDuration.parse(text) }
        #expect(error?.code == .invalidDuration)
        #expect(error?.message.contains("'\(text)'") == true)
        #expect(error?.message.contains("15secs") == true)
    }

    @Test(arguments: [
        (Duration.seconds(15), "15secs"),
        (.milliseconds(500), "500ms"),
        (.seconds(120), "2mins"),
        (.seconds(90), "90secs"),
        (.milliseconds(1500), "1500ms"),
        (.seconds(3600), "1hrs"),
        (.seconds(86400), "1days"),
        (.seconds(604_800), "1weeks"),
        (.nanoseconds(1), "1ns"),
        (.microseconds(3), "3us"),
    ])
    func formatsLikeMesos(duration: Duration, expected: String) throws {
        #expect(MesosDuration.format(duration) == expected)
        #expect(try MesosDuration.parse(expected) == duration)
    }

    @Test func secondsAsDouble() {
        #expect(Duration.milliseconds(1500).seconds == 1.5)
        #expect(Duration.zero.seconds == 0)
    }
}
