import Foundation
import KubeAPI
import Testing

/// Cases from the Kubernetes documentation of `resource.Quantity` and its serialisation rules.
struct QuantityTests {
    @Test(arguments: [
        // Decimal SI: the largest suffix that keeps the value whole.
        ("100m", "100m"), ("0.1", "100m"), ("1.5", "1500m"), ("1000", "1k"), ("1000m", "1"),
        ("128974848", "128974848"), ("129M", "129M"), ("12e6", "12e6"), ("0", "0"), ("-1.5", "-1500m"),
        ("1k", "1k"), ("1000k", "1M"), ("2G", "2G"), ("500u", "500u"), ("1n", "1n"), ("0.000000001", "1n"),
        ("1E", "1E"), ("1000E", "1000E"),
        // Binary SI: whole multiples of 1024 keep a binary suffix.
        ("1.5Gi", "1536Mi"), ("123Mi", "123Mi"), ("1Ki", "1Ki"), ("1024Ki", "1Mi"), ("1.5Ki", "1536"),
        ("512", "512"), ("0.5Ki", "512"), ("1Ei", "1Ei"),
        // Decimal exponent stays an exponent, in steps of three.
        ("2e3", "2e3"), ("129e6", "129e6"), ("1e3", "1e3"), ("1e-3", "1e-3"), ("1.5e3", "1500"), ("1E3", "1e3"),
        // Finer than nano rounds up, as upstream.
        ("0.0000000001", "1n"), ("1.0000000001", "1000000001n"),
        // Surrounding spaces and a plus sign are accepted.
        (" 10Mi ", "10Mi"), ("+5", "5"),
    ])
    func canonicalForm(input: String, canonical: String) throws {
        #expect(try Quantity(parsing: input).description == canonical)
    }

    @Test(arguments: ["", "Mi", "1.2.3", "1Q", "1 Mi", "--1", "e3", "1e", "abc", ".", "1ki"])
    func rejectsMalformedQuantities(input: String) {
        #expect(throws: QuantityError.self) { try Quantity(parsing: input) }
    }

    @Test func valuesRoundUpToWholeUnitsAndMillis() throws {
        #expect(try Quantity(parsing: "1.5Gi").value == 1_610_612_736)
        #expect(try Quantity(parsing: "100m").milliValue == 100)
        #expect(try Quantity(parsing: "100m").value == 1)
        #expect(try Quantity(parsing: "2").milliValue == 2000)
        #expect(try Quantity(parsing: "1u").milliValue == 1)
        #expect(Quantity.milli(250).description == "250m")
        #expect(Quantity(64, format: .binarySI).description == "64")
        #expect(Quantity(1 << 30, format: .binarySI).description == "1Gi")
    }

    @Test func equalityComparesValuesNotSpelling() throws {
        #expect(try Quantity(parsing: "1Ki") == Quantity(parsing: "1024"))
        #expect(try Quantity(parsing: "1") == Quantity(parsing: "1000m"))
        #expect(try Quantity(parsing: "1Mi") < Quantity(parsing: "1.1M"))
    }

    @Test func decodesStringsAndBareNumbersAndEncodesCanonically() throws {
        let decoded = try JSONDecoder().decode([String: Quantity].self, from: Data(#"{"cpu":"0.5","memory":"1.5Gi","pods":110,"x":2.5}"#.utf8))
        #expect(decoded["cpu"]?.description == "500m")
        #expect(decoded["pods"]?.description == "110")
        #expect(decoded["x"]?.description == "2500m")
        let encoded = String(decoding: try sortedEncoder().encode(decoded), as: UTF8.self)
        #expect(encoded == #"{"cpu":"500m","memory":"1536Mi","pods":"110","x":"2500m"}"#)
    }

    @Test func aBadQuantityFailsDecodingWithItsText() {
        do {
            _ = try JSONDecoder().decode([String: Quantity].self, from: Data(#"{"cpu":"lots"}"#.utf8))
            Issue.record("decoded a bad quantity")
        } catch {
            #expect("\(error)".contains("lots"))
        }
    }
}

func sortedEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}
