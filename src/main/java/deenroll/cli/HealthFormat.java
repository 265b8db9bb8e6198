package deenroll.cli;

/** What health-check prints: lines for people, one JSON document, or a Nagios/Icinga plugin's output. */
enum HealthFormat {
    text, json, nagios
}
