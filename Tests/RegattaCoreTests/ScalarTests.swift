// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Testing

@Suite struct ScalarTests {
    @Test func additionIsExact() {
        // Given
        let a = Scalar(0.1)
        let b = Scalar(0.2)
        // When
        let sum = a + b
        // Then
        #expect(sum == Scalar(0.3))
        #expect(sum.milli == 300)
        #expect(sum.description == "0.3")
    }

    @Test func repeatedAdditionDoesNotDrift() {
        var total = Scalar.zero
        for _ in 0..<1000 { total += Scalar(0.001) }
        #expect(total == Scalar(1))
        for _ in 0..<1000 { total -= Scalar(0.001) }
        #expect(total == .zero)
    }

    @Test(arguments: [
        (0.1, "0.1"), (2, "2"), (0.125, "0.125"), (1.5, "1.5"), (10.05, "10.05"), (0, "0"), (8192, "8192"),
        (0.01, "0.01"), (0.001, "0.001"), (123.4567, "123.457"),
    ])
    func formatsWithoutTrailingZeros(value: Double, expected: String) {
        #expect(Scalar(value).description == expected)
    }

    @Test func roundsToThousandths() {
        #expect(Scalar(0.0004).milli == 0)
        #expect(Scalar(0.0004).description == "0")
        #expect(Scalar(0.0005).milli == 1)
        #expect(Scalar(0.0005).description == "0.001")
        #expect(Scalar(0.0015).milli == 2)
        #expect(Scalar(1.9999).description == "2")
    }

    @Test func formatsNegativeAmounts() {
        #expect(Scalar(milli: -1500).description == "-1.5")
        #expect(Scalar(milli: -5).description == "-0.005")
        #expect(Scalar(milli: -3000).description == "-3")
    }

    @Test func comparesAndConvertsBack() {
        #expect(Scalar(0.5) < Scalar(0.501))
        #expect(!(Scalar(1) < Scalar(1)))
        #expect(Scalar(milli: 2500).value == 2.5)
        #expect(Scalar(2) - Scalar(0.5) == Scalar(1.5))
    }
}
