// Parquet footers written by pyarrow (Fixtures/make.py: v1 and v2 pages, snappy, zstd, gzip,
// none, int96 timestamps, several row groups, nested struct/list/map columns, an empty table)
// must read as pyarrow itself reads them back (Fixtures/expected.json); hostile footers must
// give an error, never a trap, a hang or a huge allocation.
import Foundation
import Testing
@testable import MLVParquet

@Suite struct ParquetFooterTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func metadata(_ bytes: [UInt8]) throws -> ParquetMetadata {
        let range = try ParquetFooter.metadataRange(fileSize: UInt64(bytes.count), tail: Array(bytes.suffix(8)))
        return try ParquetMetadata(decoding: Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)]))
    }

    static func file(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + name)))
    }

    @Test func footersReadAsPyarrowReadsThem() throws {
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/expected.json"))) as! [String: [String: Any]]
        #expect(expected.count == 5)
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
            let m = try Self.metadata(Self.file(name))
            #expect(m.rows == Int64(want["rows"] as! Int), "\(name)")
            #expect(m.columns == want["columns"] as! Int, "\(name)")
            #expect(m.leafColumns == want["leaves"] as! Int, "\(name)")
            #expect(m.rowGroupRows.count == want["row_groups"] as! Int, "\(name)")
            #expect(m.createdBy == want["created_by"] as? String, "\(name)")
        }
    }

    @Test func notParquetEncryptedOrCutShort() throws {
        let good = try Self.file("flat-snappy-v1.parquet")
        #expect(throws: ParquetError.self) { try Self.metadata(Array("id,x\n1,2\n3,4\n".utf8)) }
        #expect(throws: ParquetError.encrypted) { try Self.metadata(Array(good.dropLast(4)) + Array("PARE".utf8)) }
        #expect(throws: ParquetError.self) { try Self.metadata(Array(good.prefix(11))) }
        // A footer length past the file's start.
        var long = good
        long[good.count - 8] = 0xFF; long[good.count - 7] = 0xFF; long[good.count - 6] = 0xFF
        #expect(throws: ParquetError.self) { try Self.metadata(long) }
        // The footer cut short: its length says more than the bytes kept.
        let range = try ParquetFooter.metadataRange(fileSize: UInt64(good.count), tail: Array(good.suffix(8)))
        let footer = Array(good[Int(range.lowerBound)..<Int(range.upperBound)])
        for cut in [0, 1, footer.count / 2, footer.count - 1] {
            #expect(throws: ParquetError.self) { try ParquetMetadata(decoding: Array(footer.prefix(cut))) }
        }
    }

    /// Every byte of a real footer changed in turn, and random bytes: an error or a value,
    /// and when a value, a row count its row groups add up to.
    @Test func mutatedFootersNeverTrap() throws {
        let good = try Self.file("nested-none.parquet")
        let range = try ParquetFooter.metadataRange(fileSize: UInt64(good.count), tail: Array(good.suffix(8)))
        let footer = Array(good[Int(range.lowerBound)..<Int(range.upperBound)])
        var decoded = 0
        for i in 0..<footer.count {
            for v: UInt8 in [0x00, 0xFF, footer[i] ^ 0x10, 0x19, 0x1C] {
                var f = footer
                f[i] = v
                if let m = try? ParquetMetadata(decoding: f) {
                    decoded += 1
                    #expect(m.rows == m.rowGroupRows.reduce(0, +))
                }
            }
        }
        #expect(decoded > 0)
        var state: UInt64 = 42
        for _ in 0..<2000 {
            let bytes = (0..<Int(state % 300)).map { _ -> UInt8 in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            _ = try? ParquetMetadata(decoding: bytes)
        }
    }

    /// A list that claims more elements than bytes are left is refused before any is read;
    /// nesting past the limit is refused, not recursed into.
    @Test func countsAndNestingAreBounded() {
        // Field 4 (row groups), a list of structs claiming 2^40 elements.
        let huge: [UInt8] = [0x15, 0x02, 0x49, 0xFC, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]
        #expect(throws: ParquetError.self) { try ParquetMetadata(decoding: huge) }
        // Field 9 (unknown), structs nested 10,000 deep.
        let deep = [0x9C] + [UInt8](repeating: 0x1C, count: 10_000)
        #expect(throws: ParquetError.self) { try ParquetMetadata(decoding: deep) }
    }
}
