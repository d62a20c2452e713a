import MLVSystem
import Testing
@testable import MLVStore

/// The store's layout: names round-trip, and nothing but the names mlv writes is taken for
/// a pack or an index.
@Suite struct LayoutTests {
    let id = ObjectID.hash(Array("a pack".utf8))

    @Test func namesRoundTrip() {
        let hex = id.hex
        #expect(Layout.packRel(id) == "packs/\(hex.prefix(2))/\(hex).pack")
        #expect(Layout.packID(rel: Layout.packRel(id)) == id)
        #expect(Layout.packID(fileName: Layout.packFileName(id)) == id)
        let name = Layout.indexFileName([1, 2, 3])
        #expect(name == ObjectID.hash([1, 2, 3]).hex + ".idx")
        #expect(Layout.indexName(rel: Layout.indexRel(name)) == name)
        let tmp = Layout.uploadTempName(for: Layout.packRel(id), pid: 42)
        #expect(tmp.hasPrefix("tmp/\(hex).pack.42."))
        #expect(Layout.isUploadTempName(FS.basename(tmp)))
    }

    @Test func otherNamesAreRefused() {
        let hex = id.hex
        let other = hex.hasPrefix("zz") ? "00" : "zz"
        let wrongFolder = hex.hasPrefix("ab") ? "cd" : "ab"
        for rel in ["packs/\(other)/\(hex).pack", "packs/\(wrongFolder)/\(hex).pack", "pack/\(hex.prefix(2))/\(hex).pack",
                    "packs/\(hex).pack", "packs/\(hex.prefix(2))/x/\(hex).pack", "packs/\(hex.prefix(2))/\(hex).idx",
                    "packs/\(hex.prefix(2))/\(hex.dropLast()).pack", "packs/\(hex.prefix(2))/\(hex.uppercased()).pack",
                    "/packs/\(hex.prefix(2))/\(hex).pack", "index/\(hex).idx"] {
            #expect(Layout.packID(rel: rel) == nil, "\(rel)")
        }
        for rel in ["index/a/\(hex).idx", "idx/\(hex).idx", "index/\(hex).pack", "\(hex).idx"] {
            #expect(Layout.indexName(rel: rel) == nil, "\(rel)")
        }
        #expect(Layout.packID(fileName: "\(hex).pack.1.2") == nil)
        #expect(!Layout.isUploadTempName("\(hex).txt.1.2") && !Layout.isUploadTempName("x.pack.1.2"))
        #expect(!Store.isTempName("pack-x") && Store.isTempName("pack-12-34") && Store.isTempName("push-7.idx"))
    }
}
