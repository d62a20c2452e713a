import Foundation
import MLVTestSupport
import Testing

/// A Parquet dataset's pointer records rows and columns from its footer, as pyarrow reads them
/// (the fixtures pyarrow wrote for MLVParquetTests); a file that only looks like Parquet gets
/// none, and mlv log shows them.
@Suite struct ParquetShapeTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("MLVParquetTests/Fixtures").path

    @Test func pointersCarryRowsAndColumns() throws {
        let s = try Sandbox()
        for name in ["flat-snappy-v1.parquet", "nested-none.parquet", "empty.parquet"] {
            try s.write("data/" + name, [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/" + name))))
        }
        try s.write("data/fake.parquet", "id,x\n1,2\n")
        for name in ["flat-snappy-v1.parquet", "nested-none.parquet", "empty.parquet", "fake.parquet"] {
            try s.mlvOK("track", "data/" + name)
        }
        try s.mlvOK("commit", "-m", "tables")
        func pointer(_ name: String) throws -> String { try String(contentsOfFile: s.repo + "/data/\(name).mlv", encoding: .utf8) }
        #expect(try pointer("flat-snappy-v1.parquet").contains("rows: 1000\ncolumns: 5"))
        #expect(try pointer("nested-none.parquet").contains("rows: 50\ncolumns: 4"))
        #expect(try pointer("empty.parquet").contains("rows: 0\ncolumns: 5"))
        #expect(try !pointer("fake.parquet").contains("rows:"))
        let log = try s.mlvOK("log", "data/flat-snappy-v1.parquet").stdout
        #expect(log.contains("1,000 rows × 5 columns"), "\(log)")
    }
}
