/// "Did you mean": the one rule for suggesting what a typo meant, for commands (`mlv comit`)
/// and for keys of mlv's files (`stage:` in mlv.yaml, `sise:` in a pointer).
public enum Suggest {
    /// The candidate nearest to `word` by edit distance, when it is close enough to be a
    /// likely typo (at most 2 edits, or a third of the word's length); ties go to the first.
    public static func nearest(_ word: String, among candidates: [String]) -> String? {
        let best = candidates.map { ($0, editDistance($0, word)) }.min { $0.1 < $1.1 }
        guard let (name, d) = best, d <= max(2, word.count / 3) else { return nil }
        return name
    }

    /// Levenshtein distance (insertions, deletions and substitutions of characters).
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var row = Array(0...y.count)
        for i in 1...x.count {
            var prev = row[0]
            row[0] = i
            for j in 1...y.count {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (x[i - 1] == y[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[y.count]
    }
}
