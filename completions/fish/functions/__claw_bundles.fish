# The bundle names under $CLAW_HOME/VMs, for every claw command's fish completions.
function __claw_bundles --description 'bundle names under $CLAW_HOME/VMs'
    set -l home ~/ClawOS
    set -q CLAW_HOME; and set home $CLAW_HOME
    for f in $home/VMs/*.clawbundle
        string replace -r '^.*/(.*)\.clawbundle$' '$1' $f
    end
end
