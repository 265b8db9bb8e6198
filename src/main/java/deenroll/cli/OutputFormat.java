package deenroll.cli;

/** `--output`: text for people, json (one document on stdout) for n8n and scripts. */
public enum OutputFormat {
    text, json
}
