package deenroll.ops;

import deenroll.support.Fixtures;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A small platform: two active clients, three campaigns of different lengths,
 * leads that finished their sequence (completed, booked, opted out) and leads
 * still in flight. Counters are recounted, as migration 0020 leaves them.
 */
record Scenario(UUID clientA, UUID clientB, UUID campaignA1, UUID campaignA2, UUID campaignB1,
                List<UUID> finished, List<UUID> inFlight) {

    static Scenario build(Fixtures f) {
        UUID a = f.client("Acme Dental");
        UUID b = f.client("Brightside Realty");
        UUID a1 = f.campaign(a, 3);
        UUID a2 = f.campaign(a, 2);
        UUID b1 = f.campaign(b, 1);
        List<UUID> finished = new ArrayList<>();
        List<UUID> inFlight = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            finished.add(f.lead(a, a1, 3));
        }
        finished.add(f.lead(a, a1, 3, true, false));
        finished.add(f.lead(a, a1, 4, false, true));
        inFlight.add(f.lead(a, a1, 1));
        inFlight.add(f.lead(a, a1, 2, true, false));
        finished.add(f.lead(a, a2, 2));
        finished.add(f.lead(a, a2, 2, false, true));
        inFlight.add(f.lead(a, a2, 0));
        finished.add(f.lead(b, b1, 1));
        finished.add(f.lead(b, b1, 1, true, false));
        inFlight.add(f.lead(b, b1, 0, false, true));
        f.recount();
        return new Scenario(a, b, a1, a2, b1, List.copyOf(finished), List.copyOf(inFlight));
    }
}
