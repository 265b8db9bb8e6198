package deenroll.explain;

import deenroll.control.Pause;
import deenroll.ops.LeadStory;

import java.util.List;
import java.util.Optional;

/** Everything `deenroll explain` says about one lead. */
public record Explanation(LeadConditions lead, LeadStory story, Optional<Pause> pause, List<Claim> claims, NextRun nextRun) {

    public Explanation {
        claims = List.copyOf(claims);
    }
}
