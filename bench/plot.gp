# bench/plot.gp -- latency against offered load, drawn by bench/scale.sh:
#   gnuplot -e "datafile='x.dat'; outfile='bench/latency.png'; maxrate=N; conns=C; stamp='date'" bench/plot.gp
# datafile columns: pct offered achieved p50_ms p90_ms p99_ms
if (!exists("datafile")) datafile = 'latency.dat'
if (!exists("outfile")) outfile = 'latency.png'
if (!exists("maxrate")) maxrate = 0
if (!exists("conns")) conns = 0
if (!exists("stamp")) stamp = ''

set terminal pngcairo size 900,780 font "DejaVu Sans,11" noenhanced
set output outfile
set multiplot layout 2,1 title sprintf("luagate -> file target (fsync), open loop, %d connections, %s", conns, stamp)
set grid
set key top left box opaque
set xlabel "offered load (events/s)"
set format x "%.0f"
set xrange [0:*]
if (maxrate > 0) set xrange [0:maxrate * 1.18]
set lmargin 11
set rmargin 17
set link x2
set x2tics out nomirror scale 0.5 font ",9"
set xtics nomirror

# top: achieved against offered, with the closed-loop maximum
set ylabel "achieved events/s"
set yrange [0:*]
if (maxrate > 0) set arrow 1 from graph 0, first maxrate to graph 1, first maxrate nohead dashtype 2 lc rgb "gray40"
set x2label "offered, % of the closed-loop maximum" font ",10" offset 0,-0.5
plot datafile using 2:3:x2tic(sprintf("%d%%", $1)) with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "achieved", \
     x with lines dashtype 3 lc rgb "gray60" title "achieved = offered", \
     1/0 with lines dashtype 2 lc rgb "gray40" title sprintf("closed-loop maximum %d/s", maxrate)
unset arrow 1
unset x2label
unset x2tics
set key at screen 0.99, graph 1 right top vertical box samplen 2

# bottom: latency percentiles (log scale) and the 10 ms bar
set ylabel "latency from due time (ms)"
set logscale y
set yrange [*:*]
set format y "%g"
set arrow 2 from graph 0, first 10 to graph 1, first 10 nohead dashtype 2 lw 2 lc rgb "#d62728"
if (maxrate > 0) set arrow 3 from first maxrate/2, graph 0 to first maxrate/2, graph 1 nohead dashtype 3 lc rgb "gray40"
plot datafile using 2:6 with linespoints lw 2 pt 7 lc rgb "#d62728" title "p99", \
     datafile using 2:5 with linespoints lw 1 pt 6 lc rgb "#ff7f0e" title "p90", \
     datafile using 2:4 with linespoints lw 2 pt 5 lc rgb "#2ca02c" title "p50", \
     1/0 with lines dashtype 2 lw 2 lc rgb "#d62728" title "10 ms goal"
unset multiplot
