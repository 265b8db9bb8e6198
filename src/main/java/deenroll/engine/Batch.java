package deenroll.engine;

/** What one batch did, and where the next one of the same run resumes (null: nothing was locked). */
public record Batch(Counts counts, BatchCursor last) {
}
