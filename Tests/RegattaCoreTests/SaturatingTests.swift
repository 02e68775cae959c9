// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Testing

@Suite struct SaturatingTests {
    @Test func doublesOutsideTheRangeClampInsteadOfTrapping() {
        // Given values that `Int64(_:)` would trap on
        let hostile: [Double] = [1e300, -1e300, .infinity, -.infinity, .nan, 9.3e18, -9.3e18]
        // When / Then
        #expect(hostile.map { Int64(saturating: $0) } == [.max, .min, .max, .min, 0, .max, .min])
        #expect(Int32(saturating: 1e10) == .max)
        #expect(UInt32(saturating: -5) == 0)
        #expect(Int(saturating: 42.9) == 42)
        #expect(Int(saturating: -42.9) == -42)
    }

    @Test func theLargestExactValuesSurvive() {
        #expect(Int64(saturating: 9_223_372_036_854_774_784) == 9_223_372_036_854_774_784)
        #expect(Int64(saturating: -9_223_372_036_854_775_808) == .min)
    }

    @Test func secondsBecomeNanosecondsAndDurationsSaturating() {
        #expect(Saturating.nanoseconds(seconds: 1.5) == 1_500_000_000)
        #expect(Saturating.nanoseconds(seconds: 1e300) == .max)
        #expect(Saturating.duration(seconds: 1e300) == .nanoseconds(Int64.max))
        #expect(Saturating.duration(seconds: .nan) == .zero)
        #expect(Saturating.nanoseconds(.seconds(Int64.max)) == .max)
        #expect(Saturating.nanoseconds(.seconds(Int64.min)) == .min)
        #expect(Saturating.nanoseconds(.milliseconds(1500)) == 1_500_000_000)
        #expect(Saturating.milliseconds(.seconds(Int64.max)) == .max)
        #expect(Saturating.milliseconds(.seconds(2)) == 2000)
    }

    @Test func durationInfoFromHugeSecondsDoesNotTrap() {
        #expect(DurationInfo(seconds: 1e300).nanoseconds == .max)
        #expect(DurationInfo(seconds: -1e300).nanoseconds == .min)
    }

    @Test func wireSecondsAreCheckedWithTheFieldAndRange() {
        #expect(WireNumber.checkSeconds(604_800, field: "f") == nil)
        #expect(WireNumber.checkSeconds(0, field: "f") == nil)
        for bad in [1e300, -1, .infinity, .nan, Saturating.maximumSeconds + 1] {
            let message = WireNumber.checkSeconds(bad, field: "framework_info.failover_timeout")
            #expect(message?.contains("'framework_info.failover_timeout'") == true)
            #expect(message?.contains("between 0 and 9223372036") == true)
        }
        #expect(WireNumber.checkNanoseconds(-1, field: "g")?.contains("'g'") == true)
        #expect(WireNumber.checkNanoseconds(Int64.max, field: "g") == nil)
    }

    @Test func constantTimeEqualityIsEquality() {
        #expect(ConstantTime.equals("secret", "secret"))
        #expect(!ConstantTime.equals("secret", "secreT"))
        #expect(!ConstantTime.equals("secret", "secret1"))
        #expect(!ConstantTime.equals("", "a"))
        #expect(ConstantTime.equals("", ""))
        // Lengths that differ by a multiple of 256 must still differ.
        #expect(!ConstantTime.equals(String(repeating: "a", count: 256), ""))
    }
}

@Suite struct RedactionTests {
    @Test func passwordsAreHiddenUpToTheLastAt() {
        #expect(
            Redaction.credentials(in: "zk://ops:secret@zk1:2181,zk2:2181/mesos")
                == "zk://ops:***@zk1:2181,zk2:2181/mesos"
        )
        // The parser takes the password to end at the last '@'; no part of it may show.
        #expect(Redaction.credentials(in: "zk://ops:p@ss@word@zk1:2181/mesos") == "zk://ops:***@zk1:2181/mesos")
        #expect(Redaction.credentials(in: "zk://token@zk1:2181/m") == "zk://***@zk1:2181/m")
        #expect(Redaction.credentials(in: "127.0.0.1:5050") == "127.0.0.1:5050")
        #expect(Redaction.credentials(in: "http://m1:5050") == "http://m1:5050")
        #expect(Redaction.credentials(in: "user:pw@m1:5050") == "user:***@m1:5050")
    }
}
