package grok

import (
	"testing"

	"github.com/sluicehq/sluice/internal/function/fntest"
)

// loghubCase parses one loghub system with grok. The structured CSV's
// columns (all but LineId, EventId and EventTemplate) must come out as the
// fields of the same names.
type loghubCase struct {
	system string
	config string
	// optional lists the columns that are empty when their part of the line
	// is absent; grok skips empty captures, so the field is missing then.
	optional []string
}

// The ground truth was made by loghub's parser (logparser's
// log_to_dataframe): it strips each line, then matches it with a regexp
// built from a format such as '<Date> <Time> <Pid> <Level> <Component>:
// <Content>', where each field is a lazy (.*?) group and each run of spaces
// is \s+. The patterns below use library patterns where they describe the
// field (TIME, LOGLEVEL, JAVACLASS, ...) and DATA (lazy, like the ground
// truth) where only the delimiter does.
var loghubCases = []loghubCase{
	{system: "Apache", config: `patterns: ['^\[%{HTTPDERROR_DATE:Time}\] \[%{LOGLEVEL:Level}\] %{GREEDYDATA:Content}$']`},
	{system: "OpenSSH", config: `patterns: ['^%{MONTH:Date} +%{MONTHDAY:Day} %{TIME:Time} %{HOSTNAME:Component} sshd\[%{POSINT:Pid:int}\]: %{GREEDYDATA:Content}$']`},
	// Linux: the fourth column, which loghub calls Level, is the host name;
	// the [pid] after the program is optional. Some messages start with
	// spaces ("kernel:  BIOS-e820: ...") and one program name does
	// ("combo  -- root"): the ground truth's \s+ takes those spaces, hence
	// " +" before Component and Content.
	{system: "Linux", optional: []string{"PID"}, config: `patterns: ['^%{MONTH:Month} +%{MONTHDAY:Date} %{TIME:Time} %{HOSTNAME:Level} +%{DATA:Component}(?:\[%{POSINT:PID:int}\])?: +%{GREEDYDATA:Content}$']`},
	{system: "HDFS", config: `patterns: ['^%{HDFSDATE:Date} %{HDFSTIME:Time} %{POSINT:Pid:int} %{LOGLEVEL:Level} %{JAVACLASS:Component}: %{GREEDYDATA:Content}$']
pattern_definitions: {HDFSDATE: '\d{6}', HDFSTIME: '\d{6}'}`},
	// Zookeeper: the ground truth splits the bracketed thread name at its
	// first colon into Node and Component (thread names hold colons, as in
	// QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181); lazy DATA does the same.
	{system: "Zookeeper", config: `patterns: ['^%{YMD:Date} %{TIME:Time} - %{LOGLEVEL:Level} +\[%{DATA:Node}:%{DATA:Component}@%{POSINT:Id:int}\] - %{GREEDYDATA:Content}$']
pattern_definitions: {YMD: '%{YEAR}-%{MONTHNUM}-%{MONTHDAY}'}`},
	{system: "Proxifier", config: `patterns: ['^\[(?<Time>%{MONTHNUM}\.%{MONTHDAY} %{TIME})\] %{DATA:Program} - %{GREEDYDATA:Content}$']`},
	{system: "Spark", config: `patterns: ['^%{SPARKDATE:Date} %{TIME:Time} %{LOGLEVEL:Level} %{JAVACLASS:Component}: %{GREEDYDATA:Content}$']
pattern_definitions: {SPARKDATE: '\d\d/\d\d/\d\d'}`},
	{system: "Hadoop", config: `patterns: ['^%{YMD:Date} %{TIME:Time} %{LOGLEVEL:Level} \[%{DATA:Process}\] %{JAVACLASS:Component}: %{GREEDYDATA:Content}$']
pattern_definitions: {YMD: '%{YEAR}-%{MONTHNUM}-%{MONTHDAY}'}`},
	{system: "HealthApp", config: `patterns: ['^(?<Time>\d{8}-\d{1,2}:\d{1,2}:\d{1,2}:\d{1,3})\|%{DATA:Component}\|%{POSINT:Pid:int}\|%{GREEDYDATA:Content}$']`},
	// Android: the pids are right-aligned, padded with spaces.
	{system: "Android", config: `patterns: ['^(?<Date>%{MONTHNUM}-%{MONTHDAY}) %{TIME:Time} +%{INT:Pid:int} +%{INT:Tid:int} %{WORD:Level} %{DATA:Component}: %{GREEDYDATA:Content}$']`},
	{system: "HPC", config: `patterns: ['^%{INT:LogId} %{NOTSPACE:Node} %{NOTSPACE:Component} %{NOTSPACE:State} %{INT:Time:int} %{INT:Flag:int} %{GREEDYDATA:Content}$']`},
	// Mac: the (address) after the [pid] is optional; messages that start
	// with spaces lose them in the ground truth (its \s+ after the colon).
	{system: "Mac", optional: []string{"Address"}, config: `patterns: ['^%{MONTH:Month} +%{MONTHDAY:Date} %{TIME:Time} %{NOTSPACE:User} %{DATA:Component}\[%{INT:PID:int}\](?: \(%{DATA:Address}\))?: +%{GREEDYDATA:Content}$']`},
	{system: "OpenStack", config: `patterns: ['^%{NOTSPACE:Logrecord} %{YMD:Date} %{TIME:Time} %{INT:Pid:int} %{LOGLEVEL:Level} %{JAVACLASS:Component} \[%{DATA:ADDR}\] %{GREEDYDATA:Content}$']
pattern_definitions: {YMD: '%{YEAR}-%{MONTHNUM}-%{MONTHDAY}'}`},
}

// TestLoghub parses every line of the loghub samples and compares the
// fields with loghub's ground truth, row by row.
func TestLoghub(t *testing.T) {
	fntest.SkipWithoutLoghub(t)
	for _, c := range loghubCases {
		t.Run(c.system, func(t *testing.T) {
			fntest.CheckLoghub(t, fntest.Build(t, Spec, c.config), c.system, "_grokparsefailure", c.optional...)
		})
	}
}
