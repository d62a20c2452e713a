import MLVSystem
import MLVStore
import Testing

/// `counted` is the one place a count meets its noun ("1 file", never "1 files").
@Suite struct WordingTests {
    @Test func countsAgreeWithTheirNouns() {
        #expect(counted(1, "file") == "1 file")
        #expect(counted(0, "file") == "0 files")
        #expect(counted(2, "index file") == "2 index files")
        #expect(counted(UInt64(1), "byte") == "1 byte")
        #expect(counted(3, "target's details", "targets' details") == "3 targets' details")
        #expect(counted(1, "target's details", "targets' details") == "1 target's details")
        #expect(noun(1, "row") == "row" && noun(10_000, "row") == "rows")
    }
}
