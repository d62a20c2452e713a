// The checks a snapshot passes before any of it is written into the working tree.
import MLVSystem
import MLVStore

extension Workspace {
    /// Checks a snapshot before any of it is written at `rel` (checkout, pull, runs): the whole
    /// tree against the format's limits and its totals (`Store.checkSnapshot`, which visits
    /// each distinct tree once), a file's manifest against its declared size, and the longest
    /// path it would create against PATH_MAX. Called for every target of a plan before the
    /// first is placed, so a hostile snapshot is refused before a single folder is created.
    /// `declared`: whether `entry`'s size and files are known (a pointer's, or a tree's);
    /// when they are not (`checkout --snapshot`, a run's cached output), the entry is returned
    /// with the snapshot's own, which bound what placing it writes.
    func checkBeforePlacing(_ entry: TreeEntry, at rel: String, declared: Bool) throws -> TreeEntry {
        let store = try store()
        var checked = entry
        switch entry.kind {
        case .directory:
            let facts = try store.checkSnapshot(entry.id, target: rel, declared: declared ? (entry.size, entry.files) : nil)
            // Temporary names (FS.tempPath) add up to about 30 bytes to the last component.
            let longest = absolute(rel).utf8.count + 1 + facts.longestPath + 32
            if facts.longestPath > 0 && longest >= TreeLimits.pathMax {
                throw MLVError.invalidArgument("\(rel): its snapshot holds a path of \(facts.longestPath) bytes; here it would pass the system's \(TreeLimits.pathMax)-byte path limit (PATH_MAX); check it out in a folder with a shorter path")
            }
            checked.size = facts.size
            checked.files = facts.files
        case .file:
            let size = try store.manifest(entry.id).size
            guard !declared || size == entry.size else {
                throw ObjectError.badSnapshot(target: rel, why: "its pointer says \(counted(entry.size, "byte")), the stored file has \(size)")
            }
            checked.size = size
            checked.files = 1
        case .symlink:
            break
        }
        return checked
    }
}
