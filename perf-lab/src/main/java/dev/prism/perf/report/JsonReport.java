package dev.prism.perf.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.prism.perf.BenchResult;

/**
 * A comparison as one JSON document: {@link BenchResult} field by field (times in
 * nanoseconds, absent values omitted), for scripts and for comparing runs over time.
 */
public final class JsonReport {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private JsonReport() {
    }

    /** {@return the document, ending in a newline} */
    public static String render(BenchResult r) {
        try {
            return MAPPER.writeValueAsString(r) + "\n";
        } catch (JsonProcessingException e) {
            // every field is a record, a list, a string or a number: nothing can fail to serialize
            throw new IllegalStateException("cannot write the benchmark result as JSON: " + e.getMessage(), e);
        }
    }
}
