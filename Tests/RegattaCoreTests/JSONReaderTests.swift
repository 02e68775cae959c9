// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaTestKit
import Testing

/// The JSON reader's grammar and numbers, and the writer's numbers, against Foundation.
@Suite struct JSONReaderTests {
    private struct DoubleBox: Codable, Equatable, MesosJSONDecodable {
        var d: Double
        init(d: Double) { self.d = d }
        init(mesosJSON reader: inout JSONReader) throws {
            var object = try reader.beginObject()
            var value: Double?
            while try reader.nextKey(&object, { _ in () }) != nil { value = try reader.readDouble() }
            self.d = value ?? .nan
        }
    }

    private func fastDouble(_ text: String) throws -> Double {
        try FastCodecCheck.fastOnly(DoubleBox.self, Array(#"{"d":\#(text)}"#.utf8)).d
    }

    private func foundationDouble(_ text: String) throws -> Double {
        try JSONDecoder().decode(DoubleBox.self, from: Data(#"{"d":\#(text)}"#.utf8)).d
    }

    @Test(arguments: [
        "0", "-0", "1", "-1", "0.1", "0.5", "1.5e3", "1E3", "1e+3", "1e-3", "123456789012345", "1234567890123456789",
        "12345678901234567890123", "9007199254740993", "0.30000000000000004", "2.2250738585072014e-308",
        "1.7976931348623157e308",
        "4.9406564584124654e-300", "0.000001", "1e22", "1e23", "8.98846567431158e307",
        "3.141592653589793238462643383279",
        "0.0000000000000000000000000000001", "100000000000000000000000000000000000000", "7.038531e-26",
        "1718000000.123456",
        "-24576.5", "0e10", "0.0e-5",
    ])
    func doublesMatchFoundation(text: String) throws {
        let fast = try self.fastDouble(text)
        let foundation = try self.foundationDouble(text)
        #expect(fast.bitPattern == foundation.bitPattern, "\(text): \(fast) vs \(foundation)")
    }

    @Test func randomDoublesMatchFoundation() throws {
        var random = SeededGenerator(seed: 42)
        for _ in 0..<3000 {
            let value = Double(
                sign: Bool.random(using: &random) ? .plus : .minus,
                exponent: Int.random(in: -1000...1000, using: &random),
                significand: Double.random(in: 1..<2, using: &random)
            )
            for text in [value.description, String(format: "%.17g", value), String(format: "%.6e", value)] {
                #expect(try self.fastDouble(text).bitPattern == self.foundationDouble(text).bitPattern, "\(text)")
            }
            // Random decimal digit strings of many lengths.
            let digits = (0..<Int.random(in: 1...30, using: &random)).map { _ in
                String(Int.random(in: 0...9, using: &random))
            }
            let point = Int.random(in: 1...digits.count, using: &random)
            let decimal =
                (digits[0] == "0" ? "1" : digits[0]) + digits[1..<point].joined() + "." + digits[point...].joined()
                + "1"
            #expect(try self.fastDouble(decimal).bitPattern == self.foundationDouble(decimal).bitPattern, "\(decimal)")
        }
    }

    @Test func writerDoublesAreFoundationsBytes() throws {
        var random = SeededGenerator(seed: 43)
        var values: [Double] = [
            0, -0.0, 1, -1, 0.1, 1e15, 1e16, 9_007_199_254_740_991, 9_007_199_254_740_992, 1e-5, 1e21,
            Double.leastNonzeroMagnitude,
        ]
        for _ in 0..<3000 {
            values.append(
                Double(
                    sign: .plus,
                    exponent: Int.random(in: -1074...1023, using: &random),
                    significand: Double.random(in: 1..<2, using: &random)
                )
            )
            values.append(Double(Int64.random(in: -(1 << 62)...(1 << 62), using: &random)))
            values.append(Double(Int.random(in: -100_000...100_000, using: &random)) / 1000)
        }
        let encoder = MesosJSON.encoder()
        for value in values {
            var writer = JSONWriter()
            writer.write(value)
            #expect(writer.bytes == Array(try encoder.encode(value)), "\(value)")
        }
    }

    @Test func integersAreReadAsFoundationReadsThemOrLeftToIt() throws {
        for (json, fast) in [
            ("0", true), ("-0", false), ("65535", true), ("4294967295", true), ("4294967296", false), ("-1", false),
            ("1.0", false), ("1e2", false), ("1.5", false), ("99999999999999999999999", false),
        ] {
            let body = #"{"hostname":"h","port":1,"resources":[],"id":{"value":"a"}}"#
            // UInt32: a health check's TCP port.
            let check = #"{"port":\#(json)}"#
            let fastValue = try? FastCodecCheck.fastOnly(HealthCheck.TCPCheck.self, Array(check.utf8))
            #expect((fastValue != nil) == fast, "\(json)")
            FastCodecCheck.sameOutcome(HealthCheck.TCPCheck.self, Array(check.utf8))
            FastCodecCheck.sameOutcome(
                AgentInfo.self,
                Array(body.replacingOccurrences(of: #""port":1"#, with: #""port":\#(json)"#).utf8)
            )
        }
        let extremes = #"{"nanoseconds":-9223372036854775808}"#
        #expect(try FastCodecCheck.fastOnly(DurationInfo.self, Array(extremes.utf8)).nanoseconds == .min)
        FastCodecCheck.sameOutcome(DurationInfo.self, Array(#"{"nanoseconds":-9223372036854775809}"#.utf8))
        FastCodecCheck.sameOutcome(DurationInfo.self, Array(#"{"nanoseconds":9223372036854775807}"#.utf8))
    }

    @Test func stringsDecodeEveryEscape() throws {
        let json = #"{"value":"a\"b\\c\/d\be\ff\ng\rh\ti\u0041\u00e9\u20ac\ud83d\ude00\u0000 é😀"}"#
        let id = try FastCodecCheck.fastOnly(TaskID.self, Array(json.utf8))
        #expect(id.value == "a\"b\\c/d\u{8}e\u{c}f\ng\rh\tiAé€😀\u{0} é😀")
        #expect(id == (try FastCodecCheck.foundation(TaskID.self, Array(json.utf8))))
    }

    @Test func readerWalksAnyDocument() throws {
        let json = #" [ {"a" : [ true , false , null , -1.5e-3 , "x" , { } , [ ] ] } , 7 ] "#
        let count = try Array(json.utf8).withUnsafeBytes { bytes in
            try JSONReader.withReader(bytes) { reader -> Int in
                var array = try reader.beginArray()
                var elements = 0
                while try reader.nextElement(&array) {
                    #expect(reader.peekKind() != nil)
                    try reader.skipValue()
                    elements += 1
                }
                return elements
            }
        }
        #expect(count == 2)
    }

    @Test func writerPlacesCommasAndOmitsNils() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("a", [1, 2])
        writer.field("b", nil as String?)
        writer.key("c")
        writer.beginArray()
        writer.beginObject()
        writer.endObject()
        writer.writeNull()
        writer.write(true)
        writer.endArray()
        writer.field("d", "x/\"y\"")
        writer.endObject()
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"a":[1,2],"c":[{},null,true],"d":"x/\"y\""}"#)
    }
}
