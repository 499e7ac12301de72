package dissect

import (
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/internal/function/fntest"
)

// The ground truth was made by loghub's parser (logparser's
// log_to_dataframe): it strips each line, then matches it with a regexp
// built from a format such as '<Date> <Time> <Pid> <Level> <Component>:
// <Content>', where each field is a lazy (.*?) group and each run of spaces
// is \s+. A dissect pattern with the same delimiters takes the same values
// wherever a field's value cannot hold its delimiter, which is the case in
// these samples; where the samples pad with spaces, -> does what \s+ does.
// Linux and Mac are not here: a part of their lines is optional ([pid],
// (address)), which one dissect pattern cannot express (grok's loghub test
// covers them).
var loghubCases = []struct{ system, pattern string }{
	{"Apache", "[%{Time}] [%{Level}] %{Content}"},
	// OpenSSH: syslog pads days below 10 ("Dec  9"), hence Date->; this
	// sample only has Dec 10.
	{"OpenSSH", "%{Date->} %{Day} %{Time} %{Component} sshd[%{Pid}]: %{Content}"},
	{"HDFS", "%{Date} %{Time} %{Pid} %{Level} %{Component}: %{Content}"},
	// Zookeeper: levels are padded to five characters ("INFO  ["), so
	// Level-> skips the padding and an empty skip field takes the "[" as its
	// delimiter; the thread name is split at its first colon into Node and
	// Component, as the ground truth does.
	{"Zookeeper", "%{Date} %{Time} - %{Level->} %{}[%{Node}:%{Component}@%{Id}] - %{Content}"},
	{"Proxifier", "[%{Time}] %{Program} - %{Content}"},
	{"Spark", "%{Date} %{Time} %{Level} %{Component}: %{Content}"},
	{"Hadoop", "%{Date} %{Time} %{Level} [%{Process}] %{Component}: %{Content}"},
	{"HealthApp", "%{Time}|%{Component}|%{Pid}|%{Content}"},
	// Android: the pids are right-aligned, padded with spaces.
	{"Android", "%{Date} %{Time->} %{Pid->} %{Tid} %{Level} %{Component}: %{Content}"},
	{"HPC", "%{LogId} %{Node} %{Component} %{State} %{Time} %{Flag} %{Content}"},
	{"OpenStack", "%{Logrecord} %{Date} %{Time} %{Pid} %{Level} %{Component} [%{ADDR}] %{Content}"},
}

// TestLoghub dissects every line of the loghub samples and compares the
// fields with loghub's ground truth, row by row.
func TestLoghub(t *testing.T) {
	fntest.SkipWithoutLoghub(t)
	for _, c := range loghubCases {
		t.Run(c.system, func(t *testing.T) {
			fntest.CheckLoghub(t, fntest.Build(t, Spec, fmt.Sprintf("pattern: %q", c.pattern)), c.system, "_dissectfailure")
		})
	}
}
